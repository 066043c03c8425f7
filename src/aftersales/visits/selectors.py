"""Reads of return visits, scoped by visits.policies (outside the scope: empty lists, 404s)."""

from __future__ import annotations

from datetime import date, datetime

from django.db.models import Avg, Count, Q, QuerySet
from django.utils.translation import gettext as _

from aftersales.core.errors import NotFound
from aftersales.service.services import LOW_RATING
from aftersales.visits import policies
from aftersales.visits.models import VisitQuestion, VisitStatus, VisitTask


def visit_queryset(user) -> QuerySet[VisitTask]:
    qs = VisitTask.objects.select_related("customer", "order", "machine__model", "season", "complaint", "repair",
                                          "assigned_to")
    return qs if policies.may_visit(user) else qs.none()


def visit_get(user, pk: int) -> VisitTask:
    task = visit_queryset(user).filter(pk=pk).first()
    if task is None:
        raise NotFound(_("Return visit not found."))
    return task


def whose_filter(qs: QuerySet[VisitTask], user, whose: str) -> QuerySet[VisitTask]:
    """``mine``: assigned to the user; ``unassigned``: nobody's yet; anything else: every one."""
    if whose == "mine":
        return qs.filter(assigned_to=user)
    if whose == "unassigned":
        return qs.filter(assigned_to=None)
    return qs


def worklist(user, *, on: date, now: datetime, whose: str = "all") -> QuerySet[VisitTask]:
    """回访清单: open visits due by ``on`` whose retry time (if any) has come, oldest first."""
    return whose_filter(visit_queryset(user).filter(status=VisitStatus.OPEN, due_on__lte=on)
                  .filter(Q(retry_at=None) | Q(retry_at__lte=now)).order_by("due_on", "id"), user, whose)


def waiting(user, *, on: date, now: datetime, whose: str = "all") -> QuerySet[VisitTask]:
    """Open visits not reached yet, to call again later."""
    return whose_filter(visit_queryset(user).filter(status=VisitStatus.OPEN, due_on__lte=on, retry_at__gt=now)
                  .order_by("retry_at"), user, whose)


def planned(user, *, on: date, whose: str = "all") -> QuerySet[VisitTask]:
    """The list planned for ``on`` (the next morning's, made by the worker each night): shown beside
    today's so the agents see tomorrow's calls, and can take them, before the day begins."""
    return whose_filter(visit_queryset(user).filter(status=VisitStatus.OPEN, due_on=on).order_by("id"), user, whose)


def visiting_agents(user) -> list:
    """The colleagues a supervisor may assign visits to (those the visit policy lets call)."""
    from aftersales.accounts.models import User

    if not policies.may_plan(user):
        return []
    people = (User.objects.filter(is_active=True, organization__isnull=False).select_related("organization")
              .prefetch_related("roles"))
    return sorted((u for u in people if policies.may_visit(u)), key=lambda u: u.username)


def questions_for(kind: str) -> list[VisitQuestion]:
    return [q for q in VisitQuestion.objects.filter(is_active=True) if not q.kinds or kind in q.kinds]


def satisfaction(user, *, since: date, until: date) -> dict:
    """The return visits' part of the satisfaction measures (满意度), for the statistics centre:
    visits finished in [since, until) by kind, how many were reached, the satisfaction scores
    given on the phone (their mean and how many were low), and the complaints and repairs they
    opened. Days are Asia/Shanghai dates of ``finished_at``."""
    from aftersales.service.services.common import SHANGHAI

    from django.utils import timezone

    start = timezone.make_aware(datetime.combine(since, datetime.min.time()), SHANGHAI)
    end = timezone.make_aware(datetime.combine(until, datetime.min.time()), SHANGHAI)
    rows = visit_queryset(user).filter(finished_at__gte=start, finished_at__lt=end)
    total = rows.aggregate(
        finished=Count("id"), reached=Count("id", filter=Q(status=VisitStatus.DONE)),
        refused=Count("id", filter=Q(status=VisitStatus.REFUSED)),
        unreachable=Count("id", filter=Q(status=VisitStatus.UNREACHABLE)),
        scored=Count("score"), score_mean=Avg("score"), low=Count("id", filter=Q(score__lte=LOW_RATING)),
        complaints=Count("complaint"), repairs=Count("repair"),
    )
    by_kind = {r["kind"]: {"reached": r["reached"], "scored": r["scored"],
                           "score_mean": None if r["mean"] is None else round(float(r["mean"]), 2)}
               for r in rows.values("kind").annotate(reached=Count("id", filter=Q(status=VisitStatus.DONE)),
                                                     scored=Count("score"), mean=Avg("score")).order_by("kind")}
    mean = total["score_mean"]
    return {**total, "score_mean": None if mean is None else round(float(mean), 2),
            "reach_rate": round(total["reached"] / total["finished"], 3) if total["finished"] else None,
            "by_kind": by_kind}
