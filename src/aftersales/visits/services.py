"""Return visits (回访): the rules that make the tasks, and one function per outcome of a call.

Each outcome runs in one transaction with the task's row locked and its version checked; a low
satisfaction score opens a complaint and a new fault a repair order through the service app's
intake (channel ``visit``, the duplicate guard included), in the same transaction, so a visit is
never recorded without the orders it promised the customer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.core.errors import Conflict, Forbidden, ValidationFailed
from aftersales.registry.models import Customer, CustomerClass, Machine, MachineStatus
from aftersales.service import services as order_services
from aftersales.service.models import (
    Channel,
    ComplaintCategory,
    ComplaintSeverity,
    OrderStatus,
    OrderType,
    ServiceOrder,
)
from aftersales.service.services.common import SHANGHAI, _shanghai_today
from aftersales.visits import policies, rules, selectors
from aftersales.visits.models import (
    AnswerType,
    Outcome,
    PlanRun,
    Season,
    VisitAnswer,
    VisitAttempt,
    VisitKind,
    VisitStatus,
    VisitTask,
)

# Orders completed within this many days get a call (the next morning, normally).
AFTER_SERVICE_DAYS = 3
# Complaints closed within this many days get a call.
AFTER_COMPLAINT_DAYS = 3
# Calls not answered before the visit is given up as not reached.
MAX_ATTEMPTS = 3


# --- the rules ---------------------------------------------------------------------------------

def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()), SHANGHAI)


def _after_service(on: date) -> list[VisitTask]:
    since = _start_of(rules.completed_since(on, AFTER_SERVICE_DAYS))
    orders = (ServiceOrder.objects.filter(order_type__in=[OrderType.REPAIR, OrderType.RETURN_EXCHANGE],
                                          status__in=[OrderStatus.COMPLETED, OrderStatus.CLOSED],
                                          completed_at__gte=since, completed_at__lt=_start_of(on))
              .values_list("pk", "customer_id", "machine_id"))
    return [VisitTask(kind=VisitKind.AFTER_SERVICE, source_key=f"order:{pk}", customer_id=c, order_id=pk,
                      machine_id=m, due_on=on) for pk, c, m in orders]


def _after_complaint(on: date) -> list[VisitTask]:
    since = _start_of(rules.completed_since(on, AFTER_COMPLAINT_DAYS))
    orders = ServiceOrder.objects.filter(order_type=OrderType.COMPLAINT, status=OrderStatus.CLOSED,
                                         closed_at__gte=since, closed_at__lt=_start_of(on))
    return [VisitTask(kind=VisitKind.AFTER_COMPLAINT, source_key=f"complaint:{pk}", customer_id=c, order_id=pk,
                      due_on=on) for pk, c in orders.values_list("pk", "customer_id")]


def _key_accounts(on: date) -> list[VisitTask]:
    quarter = rules.quarter_key(on)
    return [VisitTask(kind=VisitKind.KEY_ACCOUNT, source_key=f"key:{pk}:{quarter}", customer_id=pk, due_on=on)
            for pk in Customer.objects.filter(customer_class=CustomerClass.KEY_ACCOUNT).values_list("pk", flat=True)]


def _pre_season(on: date) -> list[VisitTask]:
    tasks = []
    for season in Season.objects.filter(is_active=True):
        start = rules.season_start_due(on, start_month=season.start_month, start_day=season.start_day,
                                       lead_days=season.lead_days)
        if start is None:
            continue
        machines = (Machine.objects.filter(status=MachineStatus.IN_SERVICE, owner__province=season.province,
                                           model__category__in=season.categories)
                    .exclude(owner=None).order_by("owner_id", "pk").values_list("owner_id", "pk"))
        seen = set()
        for owner_id, machine_id in machines:
            if owner_id in seen:
                continue  # one call per customer and season, about their first machine
            seen.add(owner_id)
            tasks.append(VisitTask(kind=VisitKind.PRE_SEASON, source_key=f"season:{season.pk}:{start.year}:{owner_id}",
                                   customer_id=owner_id, machine_id=machine_id, season=season, due_on=on))
    return tasks


@dataclass
class PlanResult:
    day: date
    created: dict[str, int] = field(default_factory=dict)


def visits_plan(*, on: date) -> PlanResult:
    """Make the visit tasks due on ``on`` by every rule. Idempotent: each task has a key saying
    what made it (the order, the complaint, the customer and quarter, the season and year), so a
    second run on the same day, or the next day's run, makes none twice."""
    candidates = _after_service(on) + _after_complaint(on) + _key_accounts(on) + _pre_season(on)
    with transaction.atomic():
        known = set(VisitTask.objects.filter(source_key__in=[t.source_key for t in candidates])
                    .values_list("source_key", flat=True))
        new = [t for t in candidates if t.source_key not in known]
        # ignore_conflicts: a concurrent planner that got there first wins, nothing is doubled.
        VisitTask.objects.bulk_create(new, batch_size=500, ignore_conflicts=True)
        created: dict[str, int] = {}
        for t in new:
            created[t.kind] = created.get(t.kind, 0) + 1
        PlanRun.objects.update_or_create(day=on, defaults={"created": created})
    return PlanResult(day=on, created=created)


def visits_plan_if_due() -> PlanResult | None:
    """The worker's daily task: the next morning's list, made once (the first tick that finds no
    plan for tomorrow makes it; every later tick is one query)."""
    tomorrow = _shanghai_today() + timedelta(days=1)
    if PlanRun.objects.filter(day=tomorrow).exists():
        return None
    return visits_plan(on=tomorrow)


# --- the outcomes of a call ------------------------------------------------------------------

def _lock(actor, task_id: int, version: int) -> VisitTask:
    if not policies.may_visit(actor):
        raise Forbidden(_("You may not make return visits."))
    task = selectors.visit_queryset(actor).select_for_update(of=("self",)).filter(pk=task_id).first()
    if task is None:
        from aftersales.core.errors import NotFound

        raise NotFound(_("Return visit not found."))
    if task.version != version:
        raise Conflict(_("The visit was changed by someone else; reload it."), code="stale_version",
                       current={"id": task.pk, "status": task.status, "version": task.version})
    if task.status != VisitStatus.OPEN:
        raise Conflict(_("This visit is finished."), code="invalid_transition",
                       current={"id": task.pk, "status": task.status, "version": task.version})
    return task


def _parse_answers(task: VisitTask, answers: dict, errors: dict) -> list[VisitAnswer]:
    rows = []
    for q in selectors.questions_for(task.kind):
        raw = answers.get(str(q.pk), answers.get(q.pk))
        raw = "" if raw is None else str(raw).strip()
        name = f"answers.{q.pk}"
        row = VisitAnswer(task=task, question=q, question_text=q.text, answer_type=q.answer_type)
        if q.answer_type == AnswerType.SCORE:
            if raw not in {"1", "2", "3", "4", "5"}:
                errors[name] = _("Give a score from 1 to 5.")
                continue
            row.score = int(raw)
        elif q.answer_type == AnswerType.YES_NO:
            if raw.lower() not in {"yes", "no", "true", "false"}:
                errors[name] = _("Answer yes or no.")
                continue
            row.yes = raw.lower() in {"yes", "true"}
        else:
            if len(raw) > 2000:
                errors[name] = _("At most %(limit)s characters (this has %(n)s).") % {"limit": 2000, "n": len(raw)}
                continue
            row.text = raw
        rows.append(row)
    return rows


def _satisfaction_score(rows: list[VisitAnswer]) -> int | None:
    scores = [r.score for r in rows if r.score is not None and r.question and r.question.is_satisfaction]
    return min(scores) if scores else None


def _complaint_about(task: VisitTask) -> dict:
    if task.order_id:
        order = task.order
        if order.order_type == OrderType.COMPLAINT and order.related_order_id:
            return {"about_order_id": order.related_order_id}
        return {"about_order_id": order.pk}
    last = (ServiceOrder.objects.filter(customer_id=task.customer_id).exclude(order_type=OrderType.COMPLAINT)
            .order_by("-created_at").values_list("pk", flat=True).first())
    return {"about_order_id": last} if last else {}


def visit_reach(*, actor, task_id: int, version: int, answers: dict, new_fault: str = "",
                machine_id: int | None = None, note: str = "") -> VisitTask:
    """The customer was reached: the answers are kept; a satisfaction score of 2 or less opens a
    complaint (投诉, category low rating); a new fault opens a repair order (or, when the duplicate
    guard finds one open for the machine, the visit points at that order)."""
    with transaction.atomic():
        task = _lock(actor, task_id, version)
        errors: dict[str, str] = {}
        rows = _parse_answers(task, answers or {}, errors)
        fault = " ".join((new_fault or "").split())
        machine = None
        if fault:
            if len(fault) > 4000:
                errors["new_fault"] = _("At most %(limit)s characters (this has %(n)s).") % {"limit": 4000, "n": len(fault)}
            owned = Machine.objects.filter(owner_id=task.customer_id)
            machine = owned.filter(pk=machine_id).first() if machine_id else (
                task.machine if task.machine_id else (owned.first() if owned.count() == 1 else None))
            if machine is None:
                errors["machine_id"] = _("Say which of the customer's machines has the fault.")
        if len(note or "") > 2000:
            errors["note"] = _("At most %(limit)s characters (this has %(n)s).") % {"limit": 2000, "n": len(note)}
        if errors:
            raise ValidationFailed(_("The visit was not recorded."), fields=errors)
        VisitAnswer.objects.bulk_create(rows)
        task.score = _satisfaction_score(rows)
        if task.score is not None and task.score <= order_services.LOW_RATING:
            about = _complaint_about(task)
            texts = "；".join(r.text for r in rows if r.text)
            task.complaint = order_services.order_create(actor=actor, data=order_services.OrderInput(
                order_type=OrderType.COMPLAINT, customer_id=task.customer_id, channel=Channel.VISIT,
                symptom=_("Return visit: rated %(score)s of 5.") % {"score": task.score} + (f" {texts}" if texts else ""),
                complaint_category=ComplaintCategory.LOW_RATING,
                complaint_severity=ComplaintSeverity.HIGH if task.score == 1 else ComplaintSeverity.MEDIUM,
                about_org_id=None if about else actor.organization_id, **about,
            )).order
        if fault:
            task.repair = _new_fault_order(actor, task, machine, fault)
        _finish(task, actor, Outcome.REACHED, VisitStatus.DONE, note)
        return task


def _new_fault_order(actor, task: VisitTask, machine, fault: str) -> ServiceOrder:
    def create(reason: str = "") -> ServiceOrder:
        return order_services.order_create(actor=actor, data=order_services.OrderInput(
            order_type=OrderType.REPAIR, customer_id=task.customer_id, machine_id=machine.pk,
            channel=Channel.VISIT, symptom=fault, duplicate_reason=reason)).order
    try:
        return create()
    except Conflict as exc:
        if exc.code != "duplicate_order":
            raise
        found = ServiceOrder.objects.get(pk=exc.current["id"])
    if found.pk == task.order_id and found.status in (OrderStatus.COMPLETED, OrderStatus.CLOSED):
        # The guard found the very order this visit is about, finished: the customer told the
        # visiting agent of a new fault, which is the reason the guard asks for.
        return create(_("A new fault reported on the return visit after %(number)s.") % {"number": found.number})
    # Already being handled: the visit points at that order instead of a second one.
    return found


def visit_not_reached(*, actor, task_id: int, version: int, retry_at: datetime | None, note: str = "") -> VisitTask:
    """No answer: call again at ``retry_at`` (required, in the future); after the third try the
    visit is given up as not reached."""
    with transaction.atomic():
        task = _lock(actor, task_id, version)
        last_try = task.attempts + 1 >= MAX_ATTEMPTS
        if not last_try:
            if retry_at is None:
                raise ValidationFailed(_("The visit was not recorded."), fields={"retry_at": _("Say when to call again.")})
            if timezone.is_naive(retry_at):
                retry_at = timezone.make_aware(retry_at, SHANGHAI)
            if retry_at <= timezone.now():
                raise ValidationFailed(_("The visit was not recorded."), fields={"retry_at": _("Pick a time in the future.")})
        if last_try:
            _finish(task, actor, Outcome.NOT_REACHED, VisitStatus.UNREACHABLE, note)
            return task
        VisitAttempt.objects.create(task=task, outcome=Outcome.NOT_REACHED, by=actor, retry_at=retry_at, note=note[:2000])
        VisitTask.objects.filter(pk=task.pk).update(attempts=F("attempts") + 1, retry_at=retry_at, version=F("version") + 1)
        task.refresh_from_db()
        return task


def visit_refuse(*, actor, task_id: int, version: int, note: str = "") -> VisitTask:
    """The customer does not want to answer: recorded, not asked again for this visit."""
    with transaction.atomic():
        task = _lock(actor, task_id, version)
        _finish(task, actor, Outcome.REFUSED, VisitStatus.REFUSED, note)
        return task


def _finish(task: VisitTask, actor, outcome: str, status: str, note: str) -> None:
    VisitAttempt.objects.create(task=task, outcome=outcome, by=actor, note=(note or "")[:2000])
    task.status, task.finished_at, task.finished_by = status, timezone.now(), actor
    task.attempts += 1
    task.version += 1
    task.retry_at = None
    task.note = (note or "")[:2000]
    task.save(update_fields=["status", "finished_at", "finished_by", "attempts", "version", "retry_at", "note",
                             "score", "complaint", "repair"])


def visit_assign(*, actor, task_id: int, assignee_id: int | None) -> VisitTask:
    """Who makes an open visit's call. A supervisor assigns it to any visiting agent (or to nobody);
    an agent claims an unassigned visit for themself or gives back their own. Asking for what is
    already so changes nothing (a retried claim is no second claim); another agent's visit is a 409.
    The visit's version is kept: an agent on the call with the page open is not made to reload."""
    from aftersales.accounts.models import User

    if not policies.may_visit(actor):
        raise Forbidden(_("You may not make return visits."))
    with transaction.atomic():
        task = selectors.visit_queryset(actor).select_for_update(of=("self",)).filter(pk=task_id).first()
        if task is None:
            from aftersales.core.errors import NotFound

            raise NotFound(_("Return visit not found."))
        if task.status != VisitStatus.OPEN:
            raise Conflict(_("This visit is finished."), code="invalid_transition",
                           current={"id": task.pk, "status": task.status, "version": task.version})
        if task.assigned_to_id == assignee_id:
            return task
        assignee = None
        if assignee_id is not None:
            assignee = User.objects.filter(pk=assignee_id, is_active=True).first()
            if assignee is None or not policies.may_visit(assignee):
                raise ValidationFailed(_("Nothing was saved."),
                                       fields={"assignee_id": _("Not a colleague who makes return visits.")})
        if not policies.may_plan(actor):
            claiming = assignee_id == actor.pk and task.assigned_to_id is None
            giving_back = assignee_id is None and task.assigned_to_id == actor.pk
            if not (claiming or giving_back):
                holder = task.assigned_to
                raise Conflict(_("This visit is taken by %(name)s.") % {"name": str(holder)}
                               if holder else _("Only supervisors assign visits to others."),
                               code="taken" if holder else "forbidden",
                               current={"id": task.pk, "assigned_to_id": task.assigned_to_id})
        task.assigned_to = assignee
        task.save(update_fields=["assigned_to"])
        return task


def plan_for(*, actor, on: date) -> PlanResult:
    """A supervisor plans a day by hand (the worker does it every night for the next morning)."""
    if not policies.may_plan(actor):
        raise Forbidden(_("Only supervisors plan return visits."))
    return visits_plan(on=on)
