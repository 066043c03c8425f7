"""An order's quotes, escalations, timeline and SLA clocks are read by statements written once per
process (core.rawrows.children, issue 14). They must be the related managers' rows, in the models'
orderings, with every column converted alike (JSON, datetimes, decimals), holding their order, on
both databases."""

from __future__ import annotations

import pytest

from aftersales.service.models import ServiceOrder
from aftersales.sla.models import SlaClock
from tests.service.helpers import Actor, create, repair_body, shandong_farmer
from tests.service.test_flows import _to_tech_accepted

pytestmark = pytest.mark.django_db


def _values(rows) -> list[dict]:
    return [{f.attname: getattr(r, f.attname) for f in type(r)._meta.concrete_fields} for r in rows]


def test_children_are_the_related_managers_rows(net, api):
    from django.db import connection

    from aftersales.core.rawrows import children

    customer, machine = shandong_farmer()
    status, body = create(api, net, repair_body(customer, machine))
    assert status == 201, body
    _to_tech_accepted(api, net, body["id"])
    tech = Actor(api, net, net.agency_tech)
    tech.ok(body["id"], "escalate", problem="更换喷油器后仍冒黑烟", tried="清洗喷油器")
    order = ServiceOrder.objects.get(pk=body["id"])

    assert _values(order.timeline()) == _values(order.events.order_by("seq"))
    assert _values(order.escalation_list()) == _values(order.escalations.all())
    assert _values(order.quote_list()) == _values(order.quotes.all())
    clocks = children(SlaClock, "order", order, ("due_at", "id"), connection)
    assert _values(clocks) == _values(SlaClock.objects.filter(order=order))
    assert len(order.timeline()) >= 6 and order.escalation_list() and clocks  # not empty answers
    assert all(e.order is order for e in order.timeline())  # they hold their order, as a manager's rows do
    assert isinstance(order.timeline()[0].data, dict)
