"""A partner's agent popped with an unknown caller: the page shows the number only masked (the phone
rule), yet the customer registered from the pop gets the real number, read by the call's reference
on the server. Another agent cannot use the reference to learn a number."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from aftersales.calls import services
from aftersales.calls.models import Call
from aftersales.registry.models import CustomerPhone
from aftersales.service.models import ServiceOrder
from tests.calls.helpers import event, post_event
from tests.support import make_user

pytestmark = pytest.mark.django_db


def test_the_masked_caller_is_saved_whole_without_being_shown(client, net):
    dealer = net.dealer_henan
    _system, token, secret = services.phone_system_create(name="经销部电话", organization_id=dealer.pk)
    services.extension_set(user=net.dealer_clerk, extension="601")
    r = post_event(client, token, secret, event("d1", "dc1", "ringing", caller="13655556666", extension="601",
                                                at=datetime.now(timezone.utc)))
    assert r.status_code == 200, r.content
    call = Call.objects.get(call_id="dc1")
    client.force_login(net.dealer_clerk)
    pop = client.get("/calls/pop?after=0")
    html = pop.content.decode()
    assert pop.status_code == 200
    assert "136****6666" in html and "13655556666" not in html and "655556666" not in html
    assert f'name="c_phone_call" value="{call.pk}"' in html
    # The agent registers the caller with a consultation answered on the phone; no number typed.
    answer = client.post("/desk/intake", {"customer": "new", "c_name": "赵大田", "c_phone_call": str(call.pk),
                                          "c_class": "farmer", "machine": "", "order_type": "consultation",
                                          "symptom": "问保养周期", "answer": "每250小时保养一次"})
    assert answer.status_code in (302, 200), answer.content.decode()[:2000]
    order = ServiceOrder.objects.get()
    assert order.contact_phone == "+8613655556666"
    assert list(CustomerPhone.objects.filter(customer=order.customer).values_list("number", flat=True)) == ["+8613655556666"]

    # Another agent (even of the same organization) posting the reference gets no number from it.
    other = make_user("dealer2", dealer, "call_agent")
    client.force_login(other)
    answer = client.post("/desk/intake", {"customer": "new", "c_name": "钱冒充", "c_phone_call": str(call.pk),
                                          "c_class": "farmer", "machine": "", "order_type": "consultation",
                                          "symptom": "问价格", "answer": "请到店"})
    assert answer.status_code == 422 and "13655556666" not in answer.content.decode()
    assert ServiceOrder.objects.count() == 1
