"""The duplicate guard's candidates come from one hand-written statement (service.services.intake.
_duplicate_rows, issue 14). They must be the rows of the ORM's read: live repair and return orders
the actor may see, from the phone within the window or the machine's open ones, newest first, on
both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Q
from django.utils import timezone

from aftersales.service import selectors
from aftersales.service.models import OPEN_STATUSES, OrderStatus, OrderType, ServiceOrder
from aftersales.service.services.common import DUPLICATE_WINDOW
from aftersales.service.services.intake import _duplicate_rows
from tests.service.helpers import Actor, create, repair_body, shandong_farmer
from tests.service.test_flows import _to_tech_accepted

pytestmark = pytest.mark.django_db


def _by_orm(actor, phone, since, machine_id):
    scope = ServiceOrder.objects.all() if actor is None else selectors.order_queryset_plain(actor)
    live = scope.filter(order_type__in=[OrderType.REPAIR, OrderType.RETURN_EXCHANGE]).exclude(status=OrderStatus.CANCELLED)
    by_phone = Q(contact_phone=phone, created_at__gte=since)
    cond = by_phone if machine_id is None else by_phone | Q(machine_id=machine_id, status__in=OPEN_STATUSES)
    return list(live.filter(cond).order_by("-created_at").values_list("pk", "symptom", "machine_id", "status")[:100])


def test_the_candidates_are_the_orms(net, api):
    customer, machine = shandong_farmer()
    ids = []
    for n in range(4):
        status, order = create(api, net, repair_body(customer, machine, symptom=f"故障{n}", duplicate_reason="另一故障"))
        assert status == 201, order
        ids.append(order["id"])
    Actor(api, net, net.agent).ok(ids[0], "cancel", reason="客户自行修好")
    _to_tech_accepted(api, net, ids[1])  # dispatched: the agency sees this one
    ServiceOrder.objects.filter(pk=ids[2]).update(created_at=timezone.now() - DUPLICATE_WINDOW - timedelta(days=1))
    phone = ServiceOrder.objects.get(pk=ids[3]).contact_phone
    since = timezone.now() - DUPLICATE_WINDOW
    seen = set()
    for actor in (None, net.agent, net.agency_tech, net.other_agency_tech, net.dealer_clerk):
        for machine_id in (machine.pk, None, machine.pk + 10_000):
            got = _duplicate_rows(actor, phone, since, machine_id)
            assert got == _by_orm(actor, phone, since, machine_id), (actor, machine_id)
            seen.add(len(got))
    assert len(seen) > 1 and max(seen) == 3  # the old open order by the machine, never the cancelled one
    assert ids[0] not in {r[0] for r in _duplicate_rows(None, phone, since, machine.pk)}


@pytest.mark.django_db(transaction=True)
def test_the_intake_row_lock_finds_the_row_or_answers_none():
    from django.db import connection, transaction

    from aftersales.registry.models import Customer, Machine
    from aftersales.service.services.intake import _lock_row

    customer, machine = shandong_farmer()
    with transaction.atomic():
        assert _lock_row(Customer, customer.pk) and _lock_row(Machine, machine.pk)
        assert _lock_row(Machine, machine.pk + 10_000) is (not connection.features.has_select_for_update)
