"""Writes for product quality: the batch scan, a quality issue's life, and service campaigns.

Every change is one function, in one transaction, with an event on the issue's timeline. The scan
is idempotent (one open issue per model × component × batch, kept up to date by later scans), and
a campaign's orders are made once per machine however often a batch is retried.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.accounts.models import User
from aftersales.core.errors import Conflict, ValidationFailed
from aftersales.quality import engine, policies, selectors
from aftersales.quality.campaigns import campaign_run, run_campaign  # noqa: F401 (campaign_run: the command's)
from aftersales.quality.models import (
    OPEN_ISSUE_STATUSES,
    Campaign,
    CampaignTarget,
    IssueSource,
    IssueStatus,
    QualityIssue,
    QualityIssueEvent,
    QualityScan,
)
from aftersales.registry.models import ProductModel
from aftersales.service import policies as order_policies
from aftersales.warranty.parts import known_part, part_label


def _event(issue: QualityIssue, *, actor, action: str, from_status: str = "", data: dict | None = None) -> None:
    QualityIssueEvent.objects.create(issue=issue, at=timezone.now(), actor=actor, action=action,
                                     from_status=from_status, to_status=issue.status, data=data or {})


def _number(issue: QualityIssue) -> None:
    issue.number = f"ZL{issue.detected_at:%Y}-{issue.pk:05d}"
    QualityIssue.objects.filter(pk=issue.pk).update(number=issue.number)


def _title(model: ProductModel, component: str, batch: str) -> str:
    return _("%(model)s %(component)s, batch %(batch)s") % {
        "model": model.code, "component": part_label(component), "batch": batch or "-"}


# --- the batch scan (批量问题预警) ----------------------------------------------------------------

@dataclass
class ScanResult:
    alarms: int = 0
    opened: int = 0
    updated: int = 0


SCAN_EVERY = timedelta(hours=24)


def quality_scan_if_due(*, now: datetime | None = None) -> ScanResult | None:
    """The worker's daily scan: runs when the last one started a day ago or more (cheap otherwise)."""
    now = now or timezone.now()
    last = QualityScan.objects.order_by("-started_at").values_list("started_at", flat=True).first()
    if last is not None and now - last < SCAN_EVERY:
        return None
    return quality_scan(now=now)


def quality_scan(*, now: datetime | None = None) -> ScanResult:
    """Compare every batch with its model's other batches and open (or update) an issue per alarm."""
    now = now or timezone.now()
    run = QualityScan.objects.create(started_at=now)
    rule = selectors.rule_in_force()
    cells, orders = selectors.field_cells(rule, since=now - timedelta(days=rule.window_days))
    alarms = engine.find_alarms(cells, engine.Thresholds(rule.min_failures, rule.p_value, rule.min_ratio))
    result = ScanResult(alarms=len(alarms))
    models = ProductModel.objects.in_bulk([int(a.model) for a in alarms])
    for alarm in alarms:
        model = models[int(alarm.model)]
        stats = {"machines_in_field": alarm.machines, "failures": alarm.failures, "expected": alarm.expected,
                 "p_value": alarm.p_value}
        order_ids = orders.get((model.pk, alarm.component, alarm.batch), [])
        try:
            with transaction.atomic():
                issue = (QualityIssue.objects.select_for_update()
                         .filter(model=model, component=alarm.component, batch=alarm.batch)
                         .exclude(status=IssueStatus.CLOSED).first())
                if issue is None:
                    issue = QualityIssue.objects.create(
                        title=_title(model, alarm.component, alarm.batch), source=IssueSource.ALARM, model=model,
                        component=alarm.component, batch=alarm.batch, rule=rule if rule.pk else None,
                        detected_at=now, **stats,
                        description=_("%(failures)s failures of %(machines)s machines in the field where "
                                      "%(expected)s were expected from the model's other batches (p = %(p).2g).") % {
                            "failures": alarm.failures, "machines": alarm.machines, "expected": alarm.expected,
                            "p": alarm.p_value})
                    _number(issue)
                    _event(issue, actor=None, action="detected", data=stats)
                    result.opened += 1
                elif (issue.failures, issue.machines_in_field) != (alarm.failures, alarm.machines):
                    before = {"failures": issue.failures, "machines_in_field": issue.machines_in_field}
                    for name, value in stats.items():
                        setattr(issue, name, value)
                    issue.save(update_fields=[*stats])
                    _event(issue, actor=None, action="rescanned", from_status=issue.status,
                           data={"before": before, "after": stats})
                    result.updated += 1
                issue.orders.add(*order_ids)
        except IntegrityError:
            continue  # another scan opened it at the same moment; the next scan keeps it up to date
    QualityScan.objects.filter(pk=run.pk).update(finished_at=timezone.now(), alarms=result.alarms,
                                                 opened=result.opened, updated=result.updated)
    return result


# --- a quality issue's life ----------------------------------------------------------------------

# action -> (statuses it starts from, status it leads to, the text field it records, required)
ISSUE_ACTIONS: dict[str, tuple[tuple[str, ...], str, str, bool]] = {
    "analyse": ((IssueStatus.OPEN,), IssueStatus.ANALYSING, "analysis", False),
    "countermeasure": ((IssueStatus.ANALYSING,), IssueStatus.COUNTERMEASURE, "countermeasure", True),
    "verify": ((IssueStatus.COUNTERMEASURE,), IssueStatus.VERIFIED, "verification", True),
    "close": (OPEN_ISSUE_STATUSES, IssueStatus.CLOSED, "reason", True),
}
TEXT_LIMIT = 5000


def issue_allowed_actions(user, issue: QualityIssue) -> list[str]:
    if not policies.may_work_on_quality(user):
        return []
    return [name for name, (sources, *_rest) in ISSUE_ACTIONS.items() if issue.status in sources]


def issue_report(*, actor, model_id: int, component: str, batch: str = "", title: str = "", description: str = "",
                 order_ids: list[int] = ()) -> QualityIssue:
    """A quality problem reported by a person (an engineer's finding, a 重大问题 from the field)."""
    policies.check_work_on_quality(actor)
    errors = {}
    model = ProductModel.objects.filter(pk=model_id).first()
    if model is None:
        errors["model_id"] = _("Unknown product model.")
    if not known_part(component):
        errors["component"] = _("Unknown component code.")
    if len(batch) > 40:
        errors["batch"] = _("At most %(n)s characters.") % {"n": 40}
    if len(title) > 200:
        errors["title"] = _("At most %(n)s characters.") % {"n": 200}
    if len(description) > TEXT_LIMIT:
        errors["description"] = _("At most %(n)s characters.") % {"n": TEXT_LIMIT}
    if errors:
        raise ValidationFailed(_("The quality issue was not saved."), fields=errors)
    orders = list(order_services_visible(actor, order_ids))
    try:
        with transaction.atomic():
            issue = QualityIssue.objects.create(
                title=title.strip() or _title(model, component, batch), source=IssueSource.MANUAL, model=model,
                component=component, batch=batch.strip().upper(), description=description.strip(), owner=actor,
                detected_at=timezone.now())
            _number(issue)
            issue.orders.add(*orders)
            _event(issue, actor=actor, action="reported", data={"orders": [o.pk for o in orders]})
    except IntegrityError:
        raise Conflict(_("An open quality issue for this model, component and batch exists already."),
                       code="duplicate_issue") from None
    return issue


def order_services_visible(actor, order_ids) -> list:
    from aftersales.service import selectors as order_selectors

    wanted = [int(i) for i in order_ids or ()]
    found = list(order_selectors.order_queryset_plain(actor).filter(pk__in=wanted))
    missing = set(wanted) - {o.pk for o in found}
    if missing:
        raise ValidationFailed(_("The quality issue was not saved."),
                               fields={"order_ids": _("Unknown orders: %(ids)s") % {"ids": ", ".join(map(str, sorted(missing)))}})
    return found


def issue_act(*, actor, issue_id: int, version: int, action: str, text: str = "") -> QualityIssue:
    policies.check_work_on_quality(actor)
    if action not in ISSUE_ACTIONS:
        raise ValidationFailed(_("Unknown action."), fields={"action": ", ".join(ISSUE_ACTIONS)})
    sources, target, field, required = ISSUE_ACTIONS[action]
    text = (text or "").strip()
    if required and not text:
        raise ValidationFailed(_("Nothing was changed."), fields={"text": _("This field is required.")})
    if len(text) > TEXT_LIMIT:
        raise ValidationFailed(_("Nothing was changed."), fields={"text": _("At most %(n)s characters.") % {"n": TEXT_LIMIT}})
    with transaction.atomic():
        issue = selectors.issue_queryset(actor).select_for_update(of=("self",)).filter(pk=issue_id).first()
        if issue is None:
            from aftersales.core.errors import NotFound
            raise NotFound(_("Quality issue not found."))
        if issue.version != version:
            raise Conflict(_("The issue was changed by someone else; reload it and decide again."), code="stale_version")
        if issue.status not in sources:
            raise Conflict(_("Not possible while the issue is %(status)s.") % {"status": issue.get_status_display()},
                           code="invalid_transition", fields={"action": ", ".join(issue_allowed_actions(actor, issue))})
        before = issue.status
        issue.status = target
        if field != "reason":
            setattr(issue, field, text)
        if issue.owner_id is None:
            issue.owner = actor
        if target == IssueStatus.CLOSED:
            issue.closed_at = timezone.now()
        issue.version += 1
        issue.save()
        _event(issue, actor=actor, action=action, from_status=before, data={field: text} if text else {})
    return issue


# --- service campaigns (服务活动 / 召回) ------------------------------------------------------------

# Made inside the starting request, so the starter sees orders appear without waiting on a long request.
FIRST_BATCH = 10


def campaign_start(*, actor, issue_id: int, title: str, instructions: str, owner_id: int | None = None) -> Campaign:
    """Plan one order per affected machine in the field; the orders are made in batches (the first
    at once, the rest by the worker or `aftersales quality campaigns`)."""
    policies.check_work_on_quality(actor)
    issue = selectors.issue_get(actor, issue_id)
    errors = {}
    title, instructions = (title or "").strip(), (instructions or "").strip()
    if not title or len(title) > 200:
        errors["title"] = _("Give a title of at most 200 characters.")
    if not instructions or len(instructions) > TEXT_LIMIT:
        errors["instructions"] = _("Say what the technicians must check or replace (at most %(n)s characters).") % {
            "n": TEXT_LIMIT}
    owner = actor
    if owner_id is not None:
        owner = User.objects.filter(pk=owner_id, is_active=True).first()
    if owner is None or not order_policies.may_create_order(owner):
        errors["owner_id"] = _("The orders need a first-contact owner who may record service orders.")
    if issue.status == IssueStatus.CLOSED:
        errors["issue"] = _("The issue is closed.")
    if errors:
        raise ValidationFailed(_("The campaign was not started."), fields=errors)
    machines = selectors.affected_machines(issue)
    if not machines:
        raise ValidationFailed(_("The campaign was not started."),
                               fields={"issue": _("No machine of this batch is in the field.")})
    with transaction.atomic():
        campaign = Campaign.objects.create(issue=issue, title=title, instructions=instructions, owner=owner,
                                           started_by=actor, started_at=timezone.now())
        CampaignTarget.objects.bulk_create([CampaignTarget(campaign=campaign, machine=m) for m in machines])
        _event(issue, actor=actor, action="campaign_started", from_status=issue.status,
               data={"campaign_id": campaign.pk, "machines": len(machines), "title": title})
        transaction.on_commit(lambda: run_campaign.enqueue(campaign.pk))
    campaign_run(campaign_id=campaign.pk, limit=FIRST_BATCH)  # the first few at once; the worker makes the rest
    return campaign
