"""Scoped reads of the standards: a person's record is read through the actor, who must be the
person, a superior or an administrator; anything else is a 404."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path

from django.db.models import Count, F, Max, Q, QuerySet
from django.utils import timezone

from aftersales.accounts.models import User
from aftersales.core.errors import NotFound
from aftersales.standards import policies
from aftersales.standards.models import (
    Attendance,
    Briefing,
    Case,
    Catalogue,
    Certificate,
    Course,
    Inspection,
    Presence,
    Team,
)

SHIPPED = Path(__file__).resolve().parent / "data" / "catalogue.json"


@lru_cache(maxsize=1)
def shipped_catalogue() -> dict:
    """The seed's standards as the project ships them (version 1)."""
    return json.loads(SHIPPED.read_text(encoding="utf-8"))


def catalogue_current() -> Catalogue | None:
    return Catalogue.objects.order_by("-version").first()


def catalogue_data() -> dict:
    current = catalogue_current()
    return current.data if current is not None else shipped_catalogue()


def checklist(data: dict, *, section: str = "appearance", gender: str = "", post: str = "") -> list[dict]:
    """The catalogue's items for one inspection: the section, the person's gender where the seed
    distinguishes it (an item with no gender applies to all), the post ("all" applies to every post)."""
    return [i for i in data.get("items", [])
            if i["section"] == section
            and (not i.get("gender") or not gender or i["gender"] == gender)
            and (i.get("post", "all") in ("all", "") or not post or i["post"] == post)]


def rules(data: dict) -> list[tuple[str, str]]:
    """(code, text) of every rule a case may name: the 四不准 first, then the catalogue items."""
    return ([(r["code"], r["item"]) for r in data.get("four_nos", [])]
            + [(i["code"], f'{i["item"]}: {i["requirement"]}') for i in data.get("items", [])])


def people_managed(actor) -> QuerySet[User]:
    qs = User.objects.filter(is_active=True).select_related("organization")
    q = policies.managed_people_q(actor)
    return (qs if q is None else qs.filter(q)).distinct().order_by("organization__code", "username")


def person_get(actor, pk: int) -> User:
    person = User.objects.select_related("organization").filter(pk=pk).first()
    if person is None or not policies.may_see_record_of(actor, person):
        raise NotFound("Person not found.")
    return person


def _own_or_managed(actor, field: str) -> Q | None:
    q = policies.managed_people_q(actor)
    if q is None:
        return None
    managed = User.objects.filter(q).values("pk")
    return Q(**{field: actor.pk}) | Q(**{f"{field}__in": managed})


def team_queryset(actor) -> QuerySet[Team]:
    qs = Team.objects.select_related("organization", "leader")
    if policies.is_administrator(actor):
        return qs
    q = Q(leader=actor) | Q(members=actor)
    if actor.organization_id and policies._is_supervisor(actor):
        q |= Q(organization_id=actor.organization_id)
    return qs.filter(q).distinct()


def team_get(actor, pk: int) -> Team:
    team = team_queryset(actor).filter(pk=pk).first()
    if team is None:
        raise NotFound("Team not found.")
    return team


def briefing_get(actor, pk: int) -> Briefing:
    briefing = Briefing.objects.select_related("team", "leader").filter(pk=pk, team__in=team_queryset(actor)).first()
    if briefing is None:
        raise NotFound("Briefing not found.")
    return briefing


def briefings_of_day(teams, day: date) -> dict[int, Briefing]:
    return {b.team_id: b for b in Briefing.objects.filter(team__in=list(teams), day=day)}


def month_bounds(month: date) -> tuple[date, date]:
    first = month.replace(day=1)
    nxt = (first + timedelta(days=32)).replace(day=1)
    return first, nxt


def attendance_of_month(people_ids, month: date) -> dict[int, dict[str, int]]:
    """{person: {present, late, absent, leave}} of the month's briefings."""
    first, nxt = month_bounds(month)
    out: dict[int, dict[str, int]] = {}
    for person_id, status, n in (Attendance.objects.filter(person_id__in=people_ids, briefing__day__gte=first,
                                                          briefing__day__lt=nxt)
                                 .values_list("person_id", "status").annotate(n=Count("pk"))):
        out.setdefault(person_id, {s: 0 for s in Presence.values})[status] = n
    return out


def roll_call(briefing: Briefing) -> list[dict]:
    """The team's people with their mark at this briefing and their month's late/absent count."""
    members = list(briefing.team.members.filter(is_active=True).order_by("username"))
    marks = dict(briefing.marks.values_list("person_id", "status"))
    month = attendance_of_month([m.pk for m in members], briefing.day)
    rows = []
    for m in members:
        counts = month.get(m.pk, {})
        late_absent = counts.get("late", 0) + counts.get("absent", 0)
        rows.append({"person": m, "status": marks.get(m.pk, ""), "late_absent": late_absent,
                     "flagged": late_absent >= 3})
    return rows


def inspection_queryset(actor) -> QuerySet[Inspection]:
    qs = Inspection.objects.select_related("person", "inspector", "catalogue", "organization")
    q = _own_or_managed(actor, "person")
    return qs if q is None else qs.filter(q | Q(inspector=actor)).distinct()


def inspection_get(actor, pk: int) -> Inspection:
    inspection = inspection_queryset(actor).filter(pk=pk).first()
    if inspection is None:
        raise NotFound("Inspection not found.")
    return inspection


def repeated_failures(actor, *, since: datetime | None = None) -> list[dict]:
    """People failing the same item more than once since ``since`` (default 90 days)."""
    since = since or timezone.now() - timedelta(days=90)
    from aftersales.standards.models import InspectionLine

    rows = (InspectionLine.objects.filter(inspection__in=inspection_queryset(actor), result="fail",
                                          inspection__at__gte=since, inspection__person__isnull=False)
            .values("inspection__person_id", "code", "item").annotate(n=Count("pk"), last=Max("inspection__at"))
            .filter(n__gte=2).order_by("-n"))
    people = User.objects.in_bulk([r["inspection__person_id"] for r in rows])
    return [{"person": people[r["inspection__person_id"]], "code": r["code"], "item": r["item"], "count": r["n"],
             "last": r["last"]} for r in rows]


def case_queryset(actor) -> QuerySet[Case]:
    qs = Case.objects.select_related("person", "organization", "proposed_by", "decided_by")
    q = _own_or_managed(actor, "person")
    return qs if q is None else qs.filter(q)


def case_get(actor, pk: int) -> Case:
    case = case_queryset(actor).filter(pk=pk).first()
    if case is None:
        raise NotFound("Case not found.")
    return case


def course_queryset(actor) -> QuerySet[Course]:
    return Course.objects.all() if actor.is_authenticated else Course.objects.none()


def certified_categories(user_ids, *, on: date | None = None) -> dict[int, set[str]]:
    """{user: product categories with a valid certificate on ``on``}: for dispatch suggestions."""
    on = on or timezone.localdate()
    out: dict[int, set[str]] = {}
    for user_id, category in (Certificate.objects.filter(person_id__in=list(user_ids), expires_on__gte=on,
                                                         issued_on__lte=on).exclude(category="")
                              .values_list("person_id", "category")):
        out.setdefault(user_id, set()).add(category)
    return out


def certification_required(category: str) -> bool:
    """The company certifies technicians for this product category (a course for it exists)."""
    return bool(category) and Course.objects.filter(category=category).exists()


def technicians_ranked(people, category: str) -> list[tuple[object, bool]]:
    """(technician, certified) with the technicians certified for the category first (培训考核 feeds
    the dispatch: 先持证，后其他), each group in its given order."""
    people = list(people)
    if not category:
        return [(p, False) for p in people]
    certified = certified_categories([p.pk for p in people])
    ranked = [(p, category in certified.get(p.pk, ())) for p in people]
    return sorted(ranked, key=lambda pc: not pc[1])


def certificates_of(person) -> QuerySet[Certificate]:
    return Certificate.objects.filter(person=person).select_related("course")


# --- first-contact ownership (首问负责) ----------------------------------------------------------

STALL_AFTER = timedelta(hours=48)
# What the owner does when they follow their request to the end after handing it on.
FOLLOW_UP_ACTIONS = ("follow_up", "callback", "rate", "customer_accept", "close")


def held_elsewhere(user) -> QuerySet:
    """Open orders this person took first (the order's owner) that are now in someone else's
    hands: handed on to the hotline, dispatched, escalated. 首问负责: they stay the owner's."""
    from aftersales.service.models import OPEN_STATUSES, OrderStatus, ServiceOrder

    return (ServiceOrder.objects.filter(owner=user, status__in=OPEN_STATUSES).exclude(status=OrderStatus.NEW)
            .select_related("customer", "assigned_org").order_by("updated_at"))


def is_stalled(order, *, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return now - order.updated_at >= STALL_AFTER


def ownership_measures(people_ids, month: date) -> dict[int, dict[str, int]]:
    """{owner: {closed, followed}} for orders closed in the month: "closed with the owner's
    follow-up" counts those where the owner acted on the order after handing it on (a callback, a
    follow-up, a rating, the closing)."""
    from aftersales.service.models import OrderEvent, OrderStatus, ServiceOrder

    first, nxt = month_bounds(month)
    start = timezone.make_aware(datetime.combine(first, time.min))
    end = timezone.make_aware(datetime.combine(nxt, time.min))
    closed = ServiceOrder.objects.filter(owner_id__in=people_ids, status=OrderStatus.CLOSED, closed_at__gte=start,
                                         closed_at__lt=end)
    out: dict[int, dict[str, int]] = {}
    for owner_id, n in closed.values_list("owner_id").annotate(n=Count("pk")):
        out.setdefault(owner_id, {"closed": 0, "followed": 0})["closed"] = n
    followed = (OrderEvent.objects.filter(order__in=closed, action__in=FOLLOW_UP_ACTIONS, actor_id=F("order__owner_id"))
                .values_list("order__owner_id").annotate(n=Count("order", distinct=True)))
    for owner_id, n in followed:
        out.setdefault(owner_id, {"closed": 0, "followed": 0})["followed"] = n
    return out

