"""Reads for product quality: the field population and its failures per batch (for the scan), and
the quality issues a user may see."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from django.db.models import QuerySet

from aftersales.core.errors import NotFound
from aftersales.quality import policies
from aftersales.quality.engine import Cell, batch_of
from aftersales.quality.models import Campaign, CampaignTarget, QualityIssue, QualityRule
from aftersales.registry.models import Machine, MachineStatus
from aftersales.service.models import ServiceRecord


def rule_in_force() -> QualityRule:
    rule = QualityRule.objects.order_by("-id").first()
    return rule if rule is not None else QualityRule(pk=None)


def field_cells(rule: QualityRule, *, since: datetime) -> tuple[list[Cell], dict]:
    """Per model × component × batch: machines in service and failures recorded since ``since``.

    Also answers {(model_id, component, batch): [order ids]} so an issue can link its orders. The
    whole field is read once (two queries); a daily scan at a million machines reads ~40 MB."""
    batch_of_machine: dict[int, tuple[int, str]] = {}
    machines: Counter = Counter()
    for pk, model_id, serial in (Machine.objects.filter(status=MachineStatus.IN_SERVICE)
                                 .values_list("pk", "model_id", "serial_number").iterator(chunk_size=5000)):
        batch = batch_of(serial, prefix_length=rule.serial_prefix_length)
        batch_of_machine[pk] = (model_id, batch)
        machines[(model_id, batch)] += 1
    failures: Counter = Counter()
    orders: dict[tuple[int, str, str], list[int]] = {}
    components_of_model: dict[int, set[str]] = {}
    for machine_id, component, order_id in (ServiceRecord.objects.filter(created_at__gte=since,
                                                                         order__machine__isnull=False)
                                            .values_list("order__machine_id", "component", "order_id")
                                            .iterator(chunk_size=5000)):
        if machine_id not in batch_of_machine or not component or component == "whole_machine":
            continue
        model_id, batch = batch_of_machine[machine_id]
        failures[(model_id, component, batch)] += 1
        orders.setdefault((model_id, component, batch), []).append(order_id)
        components_of_model.setdefault(model_id, set()).add(component)
    cells = []
    for (model_id, batch), count in machines.items():
        for component in components_of_model.get(model_id, ()):
            cells.append(Cell(str(model_id), component, batch, count, failures.get((model_id, component, batch), 0)))
    return cells, orders


def issue_queryset(user) -> QuerySet[QualityIssue]:
    if not policies.may_see_quality(user):
        return QualityIssue.objects.none()
    return QualityIssue.objects.select_related("model", "owner")


def issue_get(user, pk: int) -> QualityIssue:
    issue = issue_queryset(user).filter(pk=pk).first()
    if issue is None:
        raise NotFound("")
    return issue


def affected_machines(issue: QualityIssue, rule: QualityRule | None = None) -> list[Machine]:
    """The machines of the issue's model and batch still in the field, with an owner to call."""
    rule = rule or issue.rule or rule_in_force()
    candidates = (Machine.objects.filter(model_id=issue.model_id, status=MachineStatus.IN_SERVICE,
                                         owner__isnull=False).only("pk", "serial_number", "owner_id").order_by("pk"))
    if not issue.batch:
        return list(candidates)
    prefix = issue.batch
    return [m for m in candidates.filter(serial_number__istartswith=prefix)
            if batch_of(m.serial_number, prefix_length=rule.serial_prefix_length) == prefix]


def campaign_progress(campaign: Campaign) -> dict:
    total = CampaignTarget.objects.filter(campaign=campaign).count()
    done = CampaignTarget.objects.filter(campaign=campaign).exclude(order=None).count()
    skipped = CampaignTarget.objects.filter(campaign=campaign, order=None).exclude(skipped="").count()
    return {"total": total, "created": done, "skipped": skipped, "waiting": total - done - skipped}


QUEUE_LIMIT = 10


def queue_issues(user) -> list[QualityIssue]:
    """The open quality issues the technical centre works on, for the top of its work queue (the
    engineers' inbox): none for anyone who does not work on quality."""
    from aftersales.quality.models import OPEN_ISSUE_STATUSES

    if not policies.may_work_on_quality(user):
        return []
    return list(issue_queryset(user).filter(status__in=OPEN_ISSUE_STATUSES)[:QUEUE_LIMIT])
