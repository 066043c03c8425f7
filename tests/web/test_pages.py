"""The workbenches through Django's test client: each role lands on its page, lists stay within a
fixed number of queries, actions go through the services, conflicts show a message, and the
customer's tracking page is keyed by a token and rate-limited."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from aftersales.service.models import OrderEvent, OrderStatus, Rating, ServiceOrder
from aftersales.service import services
from tests.service.helpers import png_bytes, shandong_farmer

pytestmark = pytest.mark.django_db


@pytest.fixture
def farmer(net):
    return shandong_farmer()


def login(client, user):
    client.force_login(user)
    return client


def record(net, customer, machine, **overrides) -> ServiceOrder:
    data = dict(order_type="repair", customer_id=customer.pk, machine_id=machine.pk, crop="小麦", operation="犁地",
                symptom="拖拉机启动困难，冒黑烟", urgency="urgent")
    data.update(overrides)
    return services.order_create(actor=net.agent, data=services.OrderInput(**data)).order


def act(client, order, action, **data):
    order.refresh_from_db()
    return client.post(reverse("web:order-action", args=[order.pk, action]), {"version": order.version, **data})


@pytest.mark.parametrize("persona,page", [
    ("agent", "web:desk"), ("hotline_tech", "web:queue"), ("repair_coordinator", "web:queue"),
    ("agency_tech", "web:tech"), ("supervisor", "web:supervisor"), ("engineer", "web:queue"),
])
def test_each_role_lands_on_its_workbench(client, net, persona, page):
    login(client, getattr(net, persona))
    resp = client.get("/")
    assert resp.status_code == 302 and resp["Location"] == reverse(page)
    assert client.get(resp["Location"]).status_code == 200


def test_login_page_is_chinese_by_default_and_logs_in(client, net):
    resp = client.get(reverse("web:login"))
    assert resp.status_code == 200 and "登录" in resp.content.decode()
    resp = client.post(reverse("web:login"), {"username": "agent", "password": "pass-agent"})
    assert resp.status_code == 302
    assert client.get("/")["Location"] == reverse("web:desk")


def test_english_is_remembered_after_the_switch(client, net):
    login(client, net.agent)
    client.post(reverse("set_language"), {"language": "en", "next": "/desk/"})
    html = client.get(reverse("web:desk")).content.decode()
    assert "Standard phrases" in html and "标准用语" not in html


def test_desk_lookup_shows_the_caller_machines_warranty_and_orders(client, net, farmer):
    customer, machine = farmer
    order = record(net, customer, machine)
    login(client, net.agent)
    html = client.get(reverse("web:desk-lookup"), {"q": "5678"}, HTTP_HX_REQUEST="true").content.decode()
    assert customer.name in html and machine.serial_number in html and order.number in html
    assert "<html" not in html  # a fragment for htmx, not the page
    assert "在保" in html


def test_desk_shows_the_greeting_with_the_agents_number(client, net):
    net.agent.employee_no = "8001"
    net.agent.save()
    login(client, net.agent)
    assert "您好，开拓机械公司客服 8001 号为您服务" in client.get(reverse("web:desk")).content.decode()


def test_desk_intake_records_the_order_and_warns_about_a_duplicate(client, net, farmer):
    customer, machine = farmer
    login(client, net.agent)
    form = client.get(reverse("web:desk-form"), {"customer": customer.pk}).content.decode()
    assert "上门" in form  # the proposed mode from the warranty engine
    post = {"customer": customer.pk, "machine": machine.pk, "order_type": "repair", "contact_phone": "13912345678",
            "crop": "小麦", "urgency": "normal", "symptom": "发动机冒黑烟"}
    resp = client.post(reverse("web:desk-intake"), post)
    order = ServiceOrder.objects.get()
    assert resp.status_code == 302 and resp["Location"] == reverse("web:order", args=[order.pk])
    assert order.crop == "小麦" and order.tracking_token and len(order.tracking_token) >= 20

    again = client.post(reverse("web:desk-intake"), post)
    assert again.status_code == 409 and order.number in again.content.decode()
    assert ServiceOrder.objects.count() == 1
    client.post(reverse("web:desk-intake"), {**post, "duplicate_reason": "另一台机器的问题"})
    assert ServiceOrder.objects.count() == 2


def test_a_consultation_is_answered_and_closed_at_the_desk(client, net, farmer):
    customer, _machine = farmer
    login(client, net.agent)
    resp = client.post(reverse("web:desk-intake"), {"customer": customer.pk, "order_type": "consultation",
                                                    "contact_phone": "13912345678", "symptom": "保养周期？",
                                                    "answer": "每250小时保养一次"})
    assert resp.status_code == 302 and resp["Location"] == reverse("web:desk")
    assert ServiceOrder.objects.get().status == OrderStatus.CLOSED


def test_order_page_offers_only_the_allowed_actions(client, net, farmer):
    order = record(net, *farmer)
    login(client, net.info_coordinator)
    html = client.get(reverse("web:order", args=[order.pk])).content.decode()
    assert 'id="action-forward"' in html and 'id="action-dispatch"' not in html
    login(client, net.agency_tech)
    assert client.get(reverse("web:order", args=[order.pk])).status_code == 404


def test_actions_post_through_the_services_and_a_stale_version_shows_the_fresh_order(client, net, farmer):
    order = record(net, *farmer)
    login(client, net.info_coordinator)
    stale = order.version
    resp = act(client, order, "forward", hotline_technician_id=net.hotline_tech.pk)
    assert resp.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.FORWARDED and order.hotline_technician_id == net.hotline_tech.pk
    events = OrderEvent.objects.filter(order=order).count()
    login(client, net.agent)  # the owner may cancel, with the version read before the forward
    resp = client.post(reverse("web:order-action", args=[order.pk, "cancel"]), {"version": stale, "reason": "重复"},
                       follow=True)
    html = resp.content.decode()
    assert resp.status_code == 200 and "别人" in html and order.number in html
    order.refresh_from_db()
    assert order.status == OrderStatus.FORWARDED and OrderEvent.objects.filter(order=order).count() == events


def test_a_forbidden_action_changes_nothing_and_says_why(client, net, farmer):
    order = record(net, *farmer)
    login(client, net.hotline_tech)
    resp = act(client, order, "forward")
    assert resp.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.NEW
    assert client.get(resp["Location"]).status_code == 200


def _to_service(client, net, order):
    login(client, net.info_coordinator)
    act(client, order, "forward", hotline_technician_id=net.hotline_tech.pk)
    login(client, net.hotline_tech)
    act(client, order, "callback", reached="on")
    act(client, order, "confirm_mode", service_mode="on_site")
    login(client, net.repair_coordinator)
    act(client, order, "dispatch", organization_id=net.agency_shandong.pk)
    login(client, net.agency_tech)
    act(client, order, "accept")
    act(client, order, "assign", technician_id=net.agency_tech.pk)
    act(client, order, "tech_accept")
    act(client, order, "schedule", appointment_at="2026-12-01T09:30")
    act(client, order, "check_in")
    order.refresh_from_db()
    assert order.status == OrderStatus.IN_SERVICE, order.status


def test_the_technician_records_parts_photos_and_the_signature(client, net, farmer):
    import base64
    import io

    order = record(net, *farmer)
    _to_service(client, net, order)
    photo = io.BytesIO(png_bytes())
    photo.name = "field.png"
    act(client, order, "record_service", fault_found="喷油嘴堵塞", solution="清洗喷油嘴", component="whole_machine",
        **{"parts-0-part_number": "LX-1105", "parts-0-name": "喷油嘴", "parts-0-quantity": "2", "parts-0-warranty": "on",
           "photos": photo})
    order.refresh_from_db()
    record_ = order.service_record
    assert [(p.part_number, p.quantity, p.warranty) for p in record_.parts.all()] == [("LX-1105", 2, True)]
    assert order.attachments.filter(kind="photo").count() == 1
    act(client, order, "check_out")
    signature = "data:image/png;base64," + base64.b64encode(png_bytes()).decode()
    act(client, order, "confirm", name="刘大壮", signature_png=signature)
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED and order.confirmed_by_name == "刘大壮"
    assert order.attachments.filter(kind="signature").count() == 1


def test_queue_counts_per_status_and_pages_with_a_fixed_number_of_queries(client, net, farmer,
                                                                          django_assert_max_num_queries):
    customer, machine = farmer
    for i in range(30):
        record(net, customer, machine, duplicate_reason=f"第{i}次", symptom=f"故障{i}")
    login(client, net.info_coordinator)
    with django_assert_max_num_queries(8):
        resp = client.get(reverse("web:queue"))
    html = resp.content.decode()
    assert html.count('class="num" href="/orders/') == 25
    after = re.search(r'after=([^"&]+)', html).group(1)
    with django_assert_max_num_queries(8):
        more = client.get(reverse("web:queue") + f"?after={after}", HTTP_HX_REQUEST="true").content.decode()
    assert more.count('class="num" href="/orders/') == 5 and "<html" not in more
    assert '新建<span class="count">30</span>' in html


@pytest.mark.parametrize("page", ["web:tech", "web:supervisor"])
def test_other_lists_keep_a_fixed_number_of_queries(client, net, farmer, page, django_assert_max_num_queries):
    customer, machine = farmer
    for i in range(5):
        record(net, customer, machine, duplicate_reason=f"第{i}次", symptom=f"故障{i}")
    login(client, net.agency_tech if page == "web:tech" else net.supervisor)
    # The supervisor's page reads its numbers in a fixed set of aggregates (sla.supervision).
    with django_assert_max_num_queries(10 if page == "web:tech" else 16):
        assert client.get(reverse(page)).status_code == 200


def test_desk_lookup_keeps_a_bounded_number_of_queries(client, net, farmer, django_assert_max_num_queries):
    customer, machine = farmer
    record(net, customer, machine)
    login(client, net.agent)
    with django_assert_max_num_queries(20):
        client.get(reverse("web:desk-lookup"), {"q": "刘"})


def test_the_sms_link_signs_in_and_the_order_is_shown_on_the_indexable_track_page(client, net, farmer):
    """/t/<token> is a one-step sign-in: 303 to /track/, which shows the order without the token in
    the address; the rating is posted from /track/ and closes the order once."""
    order = record(net, *farmer)
    resp = client.get(reverse("web:track", args=[order.tracking_token]))
    assert resp.status_code == 303 and resp["Location"] == reverse("web:track-find")
    page = client.get(reverse("web:track-find"))
    html = page.content.decode()
    assert page.status_code == 200 and order.number in html and "name=\"robots\"" not in html
    assert order.tracking_token not in html  # not in the page either: the form names the order by its number
    assert "Cookie" in page["Vary"] and "no-store" in page["Cache-Control"]
    ServiceOrder.objects.filter(pk=order.pk).update(status=OrderStatus.COMPLETED)
    order.refresh_from_db()
    html = client.get(reverse("web:track-find")).content.decode()
    assert "满意" in html and f'name="order" value="{order.number}"' in html
    resp = client.post(reverse("web:track-rate-here"), {"order": order.number, "score": "5", "version": order.version,
                                                        "comment": "很好"})
    assert resp.status_code == 303 and resp["Location"] == reverse("web:track-find")
    order.refresh_from_db()
    assert order.status == OrderStatus.CLOSED and Rating.objects.get(order=order).score == 5
    event = order.events.order_by("-seq").first()
    assert event.action == "rate" and event.actor_id is None and event.data["by"] == "customer"
    again = client.post(reverse("web:track-rate-here"), {"order": order.number, "score": "1", "version": order.version})
    assert again.status_code == 303 and Rating.objects.get(order=order).score == 5
    assert "感谢您的评价" in client.get(reverse("web:track-find")).content.decode()


def test_the_old_rating_address_still_rates_and_signs_in(client, net, farmer):
    order = record(net, *farmer)
    ServiceOrder.objects.filter(pk=order.pk).update(status=OrderStatus.COMPLETED)
    order.refresh_from_db()
    resp = client.post(reverse("web:track-rate", args=[order.tracking_token]), {"score": "4", "version": order.version})
    assert resp.status_code == 303 and resp["Location"] == reverse("web:track-find")
    assert Rating.objects.get(order=order).score == 4
    assert order.number in client.get(reverse("web:track-find")).content.decode()


def test_the_tracked_order_stays_in_its_own_session(client, net, farmer):
    """Another browser (or the same one after "forget") sees the public form, never the order; a
    planted session id is replaced at the sign-in; the session holds no token."""
    from django.test import Client

    cache.clear()
    order = record(net, *farmer)
    planted = client.session.session_key  # the test client stores a session and sets its cookie
    assert client.cookies["sessionid"].value == planted
    client.get(reverse("web:track", args=[order.tracking_token]))
    assert client.cookies["sessionid"].value != planted
    assert order.tracking_token not in str(dict(client.session))
    other = Client()
    html = other.get(reverse("web:track-find")).content.decode()
    assert order.number not in html and 'name="phone"' in html
    # Posting a rating for an order the session may not see: refused, nothing recorded.
    ServiceOrder.objects.filter(pk=order.pk).update(status=OrderStatus.COMPLETED)
    refused = other.post(reverse("web:track-rate-here"), {"order": order.number, "score": "5", "version": order.version + 1})
    assert refused.status_code == 403 and not Rating.objects.filter(order=order).exists()
    assert order.number in client.get(reverse("web:track-find")).content.decode()
    assert client.post(reverse("web:track-forget")).status_code == 303
    assert order.number not in client.get(reverse("web:track-find")).content.decode()
    cache.clear()


def test_several_orders_in_one_session_and_the_access_lapses(client, net, farmer, monkeypatch):
    from aftersales.web import track_access

    first = record(net, *farmer)
    second = record(net, *farmer, duplicate_reason="另一个问题")
    client.get(reverse("web:track", args=[first.tracking_token]))
    client.get(reverse("web:track", args=[second.tracking_token]))
    html = client.get(reverse("web:track-find")).content.decode()
    assert html.index(second.number) < html.index(first.number)  # the latest link first
    # A replaced token ends the access it gave.
    ServiceOrder.objects.filter(pk=first.pk).update(tracking_token="replaced-token-0001")
    html = client.get(reverse("web:track-find")).content.decode()
    assert first.number not in html and second.number in html
    # Past its lifetime the access is gone, and the page says why.
    later = track_access.time.time() + track_access.ACCESS_SECONDS + 1
    monkeypatch.setattr(track_access.time, "time", lambda: later)
    html = client.get(reverse("web:track-find")).content.decode()
    assert second.number not in html and "权限已到期" in html


def test_tracking_by_number_and_phone_signs_in_and_is_rate_limited(client, net, farmer):
    cache.clear()
    order = record(net, *farmer)
    resp = client.post(reverse("web:track-find"), {"number": order.number, "phone": "139 1234 5678"})
    assert resp.status_code == 303 and resp["Location"] == reverse("web:track-find")
    assert order.number in client.get(resp["Location"]).content.decode()
    for _ in range(10):
        assert client.post(reverse("web:track-find"), {"number": order.number, "phone": "13900000000"}).status_code == 404
    blocked = client.post(reverse("web:track-find"), {"number": order.number, "phone": "139 1234 5678"})
    assert blocked.status_code == 429
    assert client.get(reverse("web:track", args=[order.tracking_token])).status_code == 429
    cache.clear()


def test_an_unknown_token_is_a_clear_page_not_found(client, db):
    cache.clear()
    resp = client.get(reverse("web:track", args=["x" * 22]))
    assert resp.status_code == 404 and "此链接无效" in resp.content.decode() and 'name="phone"' in resp.content.decode()
    assert client.post(reverse("web:track-rate", args=["x" * 40]), {"score": "5"}).status_code == 404
    cache.clear()


def test_every_form_carries_a_csrf_token(client, net, farmer):
    order = record(net, *farmer)
    login(client, net.info_coordinator)
    html = client.get(reverse("web:order", args=[order.pk])).content.decode()
    assert html.count("<form") == html.count("csrfmiddlewaretoken") + html.count('method="get"')


def test_search_box_finds_an_order_by_number(client, net, farmer):
    order = record(net, *farmer)
    login(client, net.agent)
    resp = client.get(reverse("web:search"), {"q": order.number})
    assert resp.status_code == 302 and resp["Location"] == reverse("web:order", args=[order.pk])
    assert client.get(reverse("web:search"), {"q": "刘大壮"}).status_code == 200
