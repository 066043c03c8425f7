"""Order-changed hooks run inside the action's transaction, with the events the change appended."""

import pytest

from aftersales.service import hooks
from tests.service.helpers import Actor, create, repair_body, shandong_farmer, state

pytestmark = pytest.mark.django_db


@pytest.fixture
def recorded():
    seen = []

    def hook(order, events):
        seen.append((order.number, order.status, [e.action for e in events]))

    hooks.register_order_changed(hook)
    yield seen
    hooks._order_changed.remove(hook)


def test_hooks_see_creation_and_each_action(net, api, recorded):
    customer, machine = shandong_farmer()
    _, order = create(api, net, repair_body(customer, machine))
    Actor(api, net, net.info_coordinator).ok(order["id"], "forward", hotline_technician_id=net.hotline_tech.pk)
    assert recorded == [(order["number"], "new", ["create"]), (order["number"], "forwarded", ["forward"])]


def test_a_failing_hook_rolls_the_action_back(net, api):
    customer, machine = shandong_farmer()
    _, order = create(api, net, repair_body(customer, machine))
    before = state(order["id"])

    def broken(order, events):
        raise RuntimeError("index unavailable")

    hooks.register_order_changed(broken)
    try:
        with pytest.raises(RuntimeError):
            Actor(api, net, net.info_coordinator)(order["id"], "forward", hotline_technician_id=net.hotline_tech.pk)
    finally:
        hooks._order_changed.remove(broken)
    assert state(order["id"]) == before


def test_every_app_that_must_know_of_an_order_change_is_registered():
    """The hooks are a seam that would degrade quietly: an app whose ready() stopped registering would
    simply never hear of an order again (no clocks, no search, no aggregates, no claims). Every app
    ships in every installation, so each registration is named here and a missing one fails."""
    from aftersales.knowledge import documents
    from aftersales.notify import services as notify_services
    from aftersales.parts import claims
    from aftersales.sla import services as sla_services
    from aftersales.standards import cases
    from aftersales.standards import services as standards_services
    from aftersales.stats import aggregates

    expected = {sla_services.on_order_changed, documents.on_order_changed, notify_services.on_order_changed,
                aggregates.on_order_changed, claims.on_order_changed, cases.on_order_changed}
    assert expected <= set(hooks._order_changed)
    assert standards_services.uncertified_concern in hooks._assignment_checks
