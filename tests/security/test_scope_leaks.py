"""H2 and M1 of issue 12: a masked number cannot be recovered by suffix searches (API customers,
the one search, the call desk's look-up), look-ups are rate-limited with a counter every worker
shares, and no answer names or counts another organization's objects."""

from __future__ import annotations

import pytest
from django.urls import reverse

from aftersales.service.models import ServiceOrder
from tests.security.trust import PHONE, dispatched_to_agency, full_number_in, sold_by_agency
from tests.support import make_customer, make_machine

pytestmark = pytest.mark.django_db


def test_suffix_search_does_not_recover_a_masked_number(net, api, client):
    owner, _machine = sold_by_agency(net)
    token = net.token(net.agency_tech)
    # The attack: the masked number shows 183****2971; try each digit in front of the known suffix.
    found = []
    for digit in "0123456789":
        status, body = api.get("/customers", token=token, phone=f"{digit}2971")
        assert status == 200
        found += [digit] if body["count"] else []
        status, body = api.get("/search", token=token, q=f"{digit}2971", kinds="customer")
        assert status == 200
        found += [digit] if body["results"]["customer"] else []
    assert found == []
    assert api.get("/customers", token=token, phone="2971")[1]["count"] == 0
    assert api.get("/customers", token=token, q="32971")[1]["count"] == 0
    # The whole number still finds the caller (an agency may be phoned by the customer).
    status, body = api.get("/customers", token=token, phone=PHONE)
    assert status == 200 and [c["id"] for c in body["items"]] == [owner.pk]
    assert body["items"][0]["phones"][0]["masked"] is True
    client.force_login(net.agency_tech)
    page = client.get(reverse("web:desk-lookup"), {"q": "9332971"}).content.decode()
    assert owner.name not in page
    page = client.get(reverse("web:desk-lookup"), {"q": PHONE}).content.decode()
    # What the agent typed may come back in the page's own links (q=...); nothing else may carry it.
    assert owner.name in page and not full_number_in(page.replace(f"q={PHONE}", "").replace(f"c_phone={PHONE}", ""))


def test_the_suffix_still_works_where_the_full_number_may_be_read(net, api):
    owner, machine = sold_by_agency(net)
    # The hotline sees every number: last four digits find the caller.
    assert [c["id"] for c in api.get("/customers", token=net.token(net.agent), phone="2971")[1]["items"]] == [owner.pk]
    # An agency serving an open order of the customer finds it by the suffix too.
    order = dispatched_to_agency(net, owner, machine)
    token = net.token(net.agency_tech)
    assert [c["id"] for c in api.get("/customers", token=token, phone="2971")[1]["items"]] == [owner.pk]
    hits = api.get("/search", token=token, q="2971", kinds="order,customer")[1]["results"]
    assert [h["id"] for h in hits["order"]] == [order.pk] and [h["id"] for h in hits["customer"]] == [owner.pk]
    # Once the order is closed for the agency (cancelled), the suffix stops matching again.
    ServiceOrder.objects.filter(pk=order.pk).update(status="cancelled")
    assert api.get("/customers", token=token, phone="2971")[1]["count"] == 0
    assert api.get("/search", token=token, q="2971", kinds="order")[1]["results"]["order"] == []


def test_phone_lookups_are_rate_limited_per_user(net, api, client, settings):
    settings.LOOKUP_LIMIT_PER_USER = 5
    sold_by_agency(net)
    token = net.token(net.agency_tech)
    answers = [api.get("/customers", token=token, phone=f"{n}2971")[0] for n in range(6)]
    assert answers == [200] * 5 + [429]
    # The same user through another door shares the count (one counter in the database).
    assert api.get("/search", token=token, q="12971")[0] == 429
    assert api.get("/intake/lookup", token=token, phone=PHONE)[0] == 429
    client.force_login(net.agency_tech)
    assert client.get(reverse("web:desk-lookup"), {"q": "12971"}).status_code == 429
    # Names are not phone look-ups; they are not counted.
    assert api.get("/customers", token=token, q="王秀英")[0] == 200
    # Another user has a count of their own.
    assert api.get("/customers", token=net.token(net.other_agency_tech), phone="12971")[0] == 200


def test_phone_lookups_are_rate_limited_per_address(net, api, settings):
    from aftersales.core.models import ThrottleCounter
    settings.LOOKUP_LIMIT_PER_ADDRESS = 3
    sold_by_agency(net)

    def look(user, address):
        return api.client.get("/api/v1/customers", {"phone": "12971"}, REMOTE_ADDR=address,
                              HTTP_AUTHORIZATION=f"Bearer {net.token(user)}").status_code

    # Many accounts behind one address share the address's count.
    users = [net.agency_tech, net.other_agency_tech, net.branch_tech, net.dealer_clerk]
    assert [look(u, "10.1.1.1") for u in users] == [200, 200, 200, 429]
    assert look(net.dealer_clerk, "10.1.1.2") == 200
    # the counter is the shared throttle's row, keyed on the client address
    assert ThrottleCounter.objects.filter(key="lookup:addr:10.1.1.1", count=4).exists()


def test_a_taken_phone_or_serial_does_not_name_another_organizations_record(net, api):
    hidden = make_customer("周建华", "13700001111", province="广东省", city="广州市")  # the hotline's customer
    make_machine("LX904-HIDDEN-0001", hidden)
    token = net.token(net.dealer_clerk)
    status, body = api.post("/customers", {"name": "冒名顶替", "phones": ["137 0000 1111"]}, token=token)
    assert status == 422
    text = str(body)
    assert f"#{hidden.pk}" not in text and "belongs to customer" not in text and "已属于客户" not in text
    assert body["errors"][0]["field"] == "phones[0]"
    mine = make_customer("李四", "13600002222", registered_by=net.dealer_henan, province="河南省", city="周口市")
    status, body = api.post("/machines", {"serial_number": "LX904-HIDDEN-0001", "model_code": "LX904",
                                          "owner_id": mine.pk}, token=token)
    assert status == 422
    assert "already registered" not in str(body) and "已登记" not in str(body)
    # Within the caller's scope the answer still names its own record.
    status, body = api.post("/customers", {"name": "李四", "phones": ["13600002222"]}, token=token)
    assert status == 422 and f"#{mine.pk}" in str(body)


def test_the_duplicate_guard_answers_within_the_callers_scope(net, api):
    owner = make_customer("钱多多", "13500003333", registered_by=net.dealer_henan, province="河南省", city="周口市")
    machine = make_machine("LX904-DUP-0001", owner, dealer=net.dealer_henan)
    # The hotline records an order for the machine (the dealer does not see it).
    status, first = api.post("/orders", {"order_type": "repair", "customer_id": owner.pk, "machine_id": machine.pk,
                                         "symptom": "发动机冒黑烟"}, token=net.token(net.agent))
    assert status == 201
    assert api.get(f"/orders/{first['id']}", token=net.token(net.dealer_clerk))[0] == 404
    status, body = api.post("/orders", {"order_type": "repair", "customer_id": owner.pk, "machine_id": machine.pk,
                                        "symptom": "发动机冒黑烟"}, token=net.token(net.dealer_clerk))
    assert status == 201, body  # not a 409 naming an order the dealer may not see
    assert first["number"] not in str(body) and body["duplicate_of_id"] is None
    # The hotline itself is still warned about its own duplicate.
    status, body = api.post("/orders", {"order_type": "repair", "customer_id": owner.pk, "machine_id": machine.pk,
                                        "symptom": "发动机冒黑烟"}, token=net.token(net.agent))
    assert status == 409 and body["code"] == "duplicate_order"
