"""Every action locks its order with one hand-written statement (service.services.common._lock,
core.rawrows.JoinedRead, issue 14). It must give what the ORM's
``order_queryset_plain(user).select_related(*held).get(pk=...)`` gave: the same columns of the
order and of every held relation (converted alike), None where a relation is empty, the
one-to-ones linked both ways, and 404 for an order the user may not see, on both databases."""

from __future__ import annotations

import pytest

from aftersales.core.errors import NotFound
from aftersales.service import selectors
from aftersales.service.services.common import _HELD_RELATIONS, _lock
from tests.service.helpers import create, repair_body, shandong_farmer
from tests.service.test_flows import _to_awaiting_dispatch
from tests.service.test_warranty_chain import _serve

pytestmark = pytest.mark.django_db


def _values(obj) -> dict | None:
    return None if obj is None else {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def _held(order) -> dict:
    out = {"order": _values(order)}
    for path in _HELD_RELATIONS:
        obj = order
        for name in path.split("__"):
            obj = getattr(obj, name, None) if obj is not None else None
        out[path] = _values(obj)
    return out


def test_the_lock_reads_what_the_orm_reads(net, api):
    customer, machine = shandong_farmer()
    status, served = create(api, net, repair_body(customer, machine))
    assert status == 201, served
    _serve(api, net, served["id"], "repaired")  # dispatched, assigned, a service record
    status, waiting = create(api, net, repair_body(customer, machine, duplicate_reason="另一故障"))
    _to_awaiting_dispatch(api, net, waiting["id"])  # no assignee, no record

    for user in (net.repair_coordinator, net.agency_tech, net.agent):
        for order_id in (served["id"], waiting["id"]):
            try:
                expected = selectors.order_queryset_plain(user).select_related(*_HELD_RELATIONS).get(pk=order_id)
            except Exception:
                expected = None
            if expected is None:
                with pytest.raises(NotFound):
                    _lock(user, order_id)
                continue
            got = _lock(user, order_id)
            assert _held(got) == _held(expected), (user.username, order_id)
    got = _lock(net.repair_coordinator, served["id"])
    assert got.service_record is not None and got.service_record.order is got  # linked both ways
    assert got.machine.model.pk == machine.model_id and got.assigned_technician is not None
    assert _lock(net.repair_coordinator, waiting["id"]).assigned_org is None
    # The agency the first order was dispatched to sees it; the other agency's technician does not.
    with pytest.raises(NotFound):
        _lock(net.other_agency_tech, served["id"])
    with pytest.raises(NotFound):
        _lock(net.repair_coordinator, waiting["id"] + 10_000)


def test_an_id_beyond_64_bits_is_not_found(net):
    # The ORM answered "no such row" for it; the hand-written lock must not hand it to the driver.
    with pytest.raises(NotFound):
        _lock(net.repair_coordinator, 2**63)
    from aftersales.registry.selectors import customer_and_machine

    assert customer_and_machine(net.agent, customer_id=None, machine_id=2**63) == (None, None)
