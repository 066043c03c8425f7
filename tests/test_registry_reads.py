"""Intake reads its customer and machine through registry.selectors.customer_and_machine (issue 14):
for a user who sees every customer, the machine is one hand-written joined read (core.rawrows) and
its joined owner is the customer. Both must be what the ORM's scoped reads give, on both databases,
and a partner still reads through its visibility rule."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aftersales.registry import selectors
from aftersales.registry.models import Customer, Machine
from tests.service.helpers import shandong_farmer

pytestmark = pytest.mark.django_db


def _values(obj) -> dict | None:
    return None if obj is None else {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def test_customer_and_machine_are_the_scoped_reads(net):
    customer, machine = shandong_farmer()
    other = Customer.objects.create(name="另一位客户", province="山东省")
    for user in (net.agent, net.supervisor, net.agency_tech, net.dealer_clerk):
        for customer_id, machine_id in ((customer.pk, machine.pk), (other.pk, machine.pk), (customer.pk, None),
                                        (None, machine.pk), (customer.pk, machine.pk + 10_000)):
            got_customer, got_machine = selectors.customer_and_machine(user, customer_id=customer_id, machine_id=machine_id)
            want_machine = selectors.machine_queryset(user).filter(pk=machine_id).first() if machine_id else None
            want_customer = selectors.customer_queryset(user).filter(pk=customer_id).first() if customer_id else None
            assert _values(got_customer) == _values(want_customer), (user.username, customer_id, machine_id)
            assert _values(got_machine) == _values(want_machine), (user.username, customer_id, machine_id)
            if want_machine is not None:
                for name in ("model", "owner", "selling_dealer"):
                    assert _values(getattr(got_machine, name)) == _values(getattr(want_machine, name)), name

    # The hotline's usual intake: the caller's own machine, one statement for both.
    with CaptureQueriesContext(connection) as ctx:
        got_customer, got_machine = selectors.customer_and_machine(net.agent, customer_id=customer.pk, machine_id=machine.pk)
    assert len(ctx.captured_queries) == 1
    assert got_customer.pk == customer.pk and got_machine.owner is got_customer
    assert Machine.objects.get(pk=machine.pk).owner_id == customer.pk
