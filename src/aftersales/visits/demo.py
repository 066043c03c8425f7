"""Demo return visits: the next morning's list, made by the same rules the worker runs each night
(the completed orders of the last days, the closed complaints, the key accounts of the quarter,
pre-season checks when a season is near). When the demo's history happens to hold no order
completed in the last days, the most recently completed ones are planned too, so the list always
shows the calls back after a service."""

from __future__ import annotations

from datetime import timedelta

from aftersales.service.models import OrderStatus, OrderType, ServiceOrder
from aftersales.service.services.common import _shanghai_today
from aftersales.visits.models import VisitKind, VisitTask
from aftersales.visits.services import visits_plan

AT_LEAST = 5


def build(stdout=None) -> dict:
    tomorrow = _shanghai_today() + timedelta(days=1)
    result = visits_plan(on=tomorrow)
    created = dict(result.created)
    if created.get(VisitKind.AFTER_SERVICE, 0) < AT_LEAST:
        recent = (ServiceOrder.objects.filter(order_type=OrderType.REPAIR, status__in=[OrderStatus.COMPLETED,
                                                                                        OrderStatus.CLOSED])
                  .exclude(completed_at=None).exclude(visit_tasks__isnull=False).order_by("-completed_at")[:AT_LEAST])
        extra = [VisitTask(kind=VisitKind.AFTER_SERVICE, source_key=f"order:{o.pk}", customer_id=o.customer_id,
                           order_id=o.pk, machine_id=o.machine_id, due_on=tomorrow) for o in recent]
        VisitTask.objects.bulk_create(extra, ignore_conflicts=True)
        created[VisitKind.AFTER_SERVICE] = created.get(VisitKind.AFTER_SERVICE, 0) + len(extra)
    if stdout is not None:
        stdout.write(f"return visits for {tomorrow}: " + ", ".join(f"{k} {n}" for k, n in sorted(created.items())))
    return created
