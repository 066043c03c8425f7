"""The warranty engine's repair history of a machine is read by one hand-written statement
(service.hooks._machine_repairs, issue 14): it must give exactly the rows the ORM's three reads gave
(repair orders not cancelled, oldest first; their service records; the records' part lines in
order), with the same Python values (aware datetimes, booleans), on both databases."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aftersales.service.hooks import _machine_repairs, repair_history
from aftersales.service.models import OrderStatus, OrderType, PartUsage, ServiceOrder, ServiceRecord
from tests.service.helpers import Actor, repair_body, shandong_farmer
from tests.service.test_warranty_chain import _intake, _serve

pytestmark = pytest.mark.django_db


def _by_orm(machine):
    orders = list(ServiceOrder.objects.filter(machine=machine, order_type=OrderType.REPAIR)
                  .exclude(status=OrderStatus.CANCELLED).order_by("created_at", "pk")
                  .values_list("pk", "created_at", "completed_at", "service_mode", "status"))
    wanted = {o[0] for o in orders}
    records = {order_id: (component, serious, updated_at) for order_id, component, serious, updated_at in
               ServiceRecord.objects.filter(order__machine=machine).values_list("order_id", "component", "serious", "updated_at")
               if order_id in wanted}
    lines: dict[int, list] = {}
    for order_id, component, action, serious in (PartUsage.objects.filter(record__order__machine=machine).order_by("pk")
                                                 .values_list("record__order_id", "component", "action", "serious")):
        if order_id in wanted:
            lines.setdefault(order_id, []).append((component, action, serious))
    return orders, records, lines


def test_the_one_statement_gives_the_orms_rows(net, api):
    customer, machine = shandong_farmer()
    served = _intake(api, net, customer, machine)
    _serve(api, net, served["id"], "repaired")  # a record with a part line
    replaced = _intake(api, net, customer, machine)
    _serve(api, net, replaced["id"], "replaced")
    _intake(api, net, customer, machine)  # open, no record yet
    cancelled = _intake(api, net, customer, machine)
    Actor(api, net, net.agent).ok(cancelled["id"], "cancel", reason="客户自行修好")

    with CaptureQueriesContext(connection) as ctx:
        got = _machine_repairs(machine.pk)
    assert len(ctx.captured_queries) == 1
    expected = _by_orm(machine)
    assert got == expected
    orders, records, lines = got
    assert len(orders) == 3 and len(records) == 2 and sum(map(len, lines.values())) == 2  # not empty answers
    assert all(o[1].tzinfo is not None for o in orders) and all(isinstance(r[1], bool) for r in records.values())
    assert cancelled["id"] not in {o[0] for o in orders}
    # And what the engine is given from them.
    assert [(h.component, h.kind, h.serious) for h in repair_history(machine)] == [
        ("gearbox", "repair", True), ("gearbox", "main_part_replacement", True), ("whole_machine", "repair", False)]
    # A machine never repaired has no history, in the same one statement.
    assert _machine_repairs(machine.pk + 10_000) == ([], {}, {})
