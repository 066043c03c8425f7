"""The order page's action forms through Django's test client: list fields are typed one item per
line and saved as lists, a refused save shows the form again as typed and reuses (never repeats)
a photo it stored, the page leads with the next step, says who acts next, shows escalations and
complaints, and the technician's phone view lists what was dispatched to his organization."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from aftersales.service.models import OrderEvent, OrderStatus, ServiceOrder
from tests.service.helpers import Actor, create, png_bytes, repair_body, shandong_farmer
from tests.service.test_flows import _to_awaiting_dispatch, _to_tech_accepted

pytestmark = pytest.mark.django_db


@pytest.fixture
def farmer(net):
    return shandong_farmer()


def new_order(api, net, farmer) -> int:
    status, order = create(api, net, repair_body(*farmer))
    assert status == 201, order
    return order["id"]


def post(client, order_id, action, files=None, **data):
    order = ServiceOrder.objects.get(pk=order_id)
    return client.post(reverse("web:order-action", args=[order_id, action]), {"version": order.version, **data, **(files or {})})


def test_diagnosis_steps_are_typed_one_per_line_and_shown_numbered(client, api, net, farmer):
    oid = new_order(api, net, farmer)
    Actor(api, net, net.info_coordinator).ok(oid, "forward", hotline_technician_id=net.hotline_tech.pk)
    Actor(api, net, net.hotline_tech).ok(oid, "callback")
    client.force_login(net.hotline_tech)
    html = client.get(reverse("web:order", args=[oid])).content.decode()
    assert '<textarea name="steps" rows="4"' in html
    resp = post(client, oid, "diagnose", steps="检查空气滤清器\r\n\r\n  检查喷油嘴雾化  \n")
    assert resp.status_code == 302 and resp["Location"].endswith("?done=diagnose")
    assert ServiceOrder.objects.get(pk=oid).diagnosis == ["检查空气滤清器", "检查喷油嘴雾化"]
    html = client.get(resp["Location"]).content.decode()
    assert '<ol class="flush numbered" id="diagnosis-steps"><li>检查空气滤清器</li><li>检查喷油嘴雾化</li></ol>' in html
    # The form just used is shut; the step that moves the order on leads, open.
    assert '<details class="action primary" id="action-diagnose" >' in html
    assert html.index('id="action-solve_by_phone"') < html.index('id="action-diagnose"')


def test_a_refused_form_is_shown_again_as_typed_with_the_reason_in_chinese(client, api, net, farmer):
    oid = new_order(api, net, farmer)
    Actor(api, net, net.info_coordinator).ok(oid, "forward", hotline_technician_id=net.hotline_tech.pk)
    Actor(api, net, net.hotline_tech).ok(oid, "callback")
    client.force_login(net.hotline_tech)
    before = OrderEvent.objects.filter(order_id=oid).count()
    resp = post(client, oid, "solve_by_phone", solution="   ", steps="清理油路\n重新排气", note="客户在田里")
    html = resp.content.decode()
    assert resp.status_code == 422
    assert OrderEvent.objects.filter(order_id=oid).count() == before
    assert 'id="action-solve_by_phone" open' in html
    assert "清理油路\n重新排气</textarea>" in html and 'value="客户在田里"' in html
    assert "Input should be" not in html and "valid list" not in html


def test_a_photo_stored_by_a_refused_service_record_is_reused_not_repeated(client, api, net, farmer):
    oid = new_order(api, net, farmer)
    _to_tech_accepted(api, net, oid)
    tech = Actor(api, net, net.agency_tech)
    tech.ok(oid, "schedule", appointment_at=(timezone.now() + timedelta(hours=2)).isoformat())
    tech.ok(oid, "check_in")
    client.force_login(net.agency_tech)
    from django.core.files.uploadedfile import SimpleUploadedFile

    photo = SimpleUploadedFile("field.png", png_bytes(), content_type="image/png")
    typed = {"fault_found": "   ", "solution": "更换燃油滤清器", "diagnosis_steps": "拆检油路\n检查滤清器",
             "parts-0-part_number": "LX-1105", "parts-0-name": "燃油滤清器", "parts-0-quantity": "1",
             "parts-0-warranty": "on", "component": "whole_machine"}
    resp = post(client, oid, "record_service", files={"photos": photo}, **typed)
    html = resp.content.decode()
    assert resp.status_code == 422
    order = ServiceOrder.objects.get(pk=oid)
    photos = list(order.attachments.filter(kind="photo"))
    assert len(photos) == 1
    assert f'name="photo_ids" value="{photos[0].pk}" checked' in html
    assert "拆检油路\n检查滤清器</textarea>" in html and 'value="燃油滤清器"' in html
    # The second try sends the stored photo by id and no file: still one photo.
    resp = post(client, oid, "record_service", **{**typed, "fault_found": "燃油滤清器堵塞"}, photo_ids=str(photos[0].pk))
    assert resp.status_code == 302
    order.refresh_from_db()
    assert order.attachments.filter(kind="photo").count() == 1
    assert order.service_record.diagnosis_steps == ["拆检油路", "检查滤清器"]


def test_a_schema_error_stores_no_photo(client, api, net, farmer):
    oid = new_order(api, net, farmer)
    _to_tech_accepted(api, net, oid)
    tech = Actor(api, net, net.agency_tech)
    tech.ok(oid, "schedule", appointment_at=(timezone.now() + timedelta(hours=2)).isoformat())
    tech.ok(oid, "check_in")
    client.force_login(net.agency_tech)
    from django.core.files.uploadedfile import SimpleUploadedFile

    photo = SimpleUploadedFile("field.png", png_bytes(), content_type="image/png")
    resp = post(client, oid, "record_service", files={"photos": photo}, fault_found="堵塞", solution="清洗",
                **{"parts-0-part_number": "LX-1105", "parts-0-quantity": "两个"})
    assert resp.status_code == 422 and "请输入数字" in resp.content.decode()
    assert not ServiceOrder.objects.get(pk=oid).attachments.exists()


def test_parts_rows_beyond_the_three_shown_are_read(client, api, net, farmer):
    oid = new_order(api, net, farmer)
    _to_tech_accepted(api, net, oid)
    tech = Actor(api, net, net.agency_tech)
    tech.ok(oid, "schedule", appointment_at=(timezone.now() + timedelta(hours=2)).isoformat())
    tech.ok(oid, "check_in")
    client.force_login(net.agency_tech)
    rows = {f"parts-{i}-part_number": f"LX-{i}" for i in (0, 1, 2, 3, 4)}
    resp = post(client, oid, "record_service", fault_found="堵塞", solution="清洗", component="whole_machine", **rows,
                **{"parts-4-warranty": "on"})
    assert resp.status_code == 302
    parts = ServiceOrder.objects.get(pk=oid).service_record.parts.order_by("part_number")
    assert [(p.part_number, p.warranty) for p in parts] == [
        ("LX-0", False), ("LX-1", False), ("LX-2", False), ("LX-3", False), ("LX-4", True)]


def test_someone_with_nothing_to_do_is_told_who_acts_next(client, api, net, farmer):
    oid = new_order(api, net, farmer)
    _to_awaiting_dispatch(api, net, oid)
    Actor(api, net, net.repair_coordinator).ok(oid, "dispatch", organization_id=net.agency_shandong.pk)
    client.force_login(net.engineer)
    html = client.get(reverse("web:order", args=[oid])).content.decode()
    assert 'id="next-step"' in html and "等待潍坊金丰农机维修站接单或退单。" in html


def test_blocked_actions_are_kept_off_the_phone_and_after_the_ready_ones(client, api, net, farmer):
    oid = new_order(api, net, farmer)
    _to_tech_accepted(api, net, oid)
    tech = Actor(api, net, net.agency_tech)
    tech.ok(oid, "schedule", appointment_at=(timezone.now() + timedelta(hours=2)).isoformat())
    tech.ok(oid, "check_in")
    client.force_login(net.agency_tech)
    html = client.get(reverse("web:order", args=[oid])).content.decode()
    # check_out waits for the service record: listed last, hidden on a phone.
    assert 'class="action primary blocked hide-phone" id="action-check_out"' in html
    assert html.index('id="action-record_service"') < html.index('id="action-check_out"')
    assert 'id="action-record_service" open' in html


def test_check_in_records_the_position_when_the_technician_shares_it(client, api, net, farmer):
    oid = new_order(api, net, farmer)
    _to_tech_accepted(api, net, oid)
    Actor(api, net, net.agency_tech).ok(oid, "schedule", appointment_at=(timezone.now() + timedelta(hours=2)).isoformat())
    client.force_login(net.agency_tech)
    html = client.get(reverse("web:order", args=[oid])).content.decode()
    # app.js fills these from navigator.geolocation; they are not typed fields of the form.
    for name in ("latitude", "longitude", "accuracy_m"):
        assert f'<input type="hidden" name="{name}">' in html
    resp = post(client, oid, "check_in", latitude="36.876543", longitude="118.791234", accuracy_m="25",
                note="到了")
    assert resp.status_code == 302
    event = OrderEvent.objects.filter(order_id=oid, action="check_in").get()
    assert (str(event.latitude), str(event.longitude), event.accuracy_m) == ("36.876543", "118.791234", 25)
    assert event.note == "到了"  # the position is in its fields, not in the note
    assert ServiceOrder.objects.get(pk=oid).status == OrderStatus.IN_SERVICE
    html = client.get(reverse("web:order", args=[oid])).content.decode()
    assert "36.87654" in html and "118.79123" in html  # shown on the timeline


def test_escalation_question_tried_and_answer_are_on_the_page(client, api, net, farmer):
    oid = new_order(api, net, farmer)
    Actor(api, net, net.info_coordinator).ok(oid, "forward", hotline_technician_id=net.hotline_tech.pk)
    hotline = Actor(api, net, net.hotline_tech)
    hotline.ok(oid, "callback")
    hotline.ok(oid, "escalate", problem="冒黑烟原因不明", tried="更换空滤，调整气门间隙")
    client.force_login(net.engineer)
    html = client.get(reverse("web:order", args=[oid])).content.decode()
    assert "冒黑烟原因不明" in html and "更换空滤，调整气门间隙" in html and "等待技术工程师答复。" in html
    Actor(api, net, net.engineer).ok(oid, "answer_escalation", outcome="guidance", answer="检查喷油泵供油提前角")
    html = client.get(reverse("web:order", args=[oid])).content.decode()
    assert "检查喷油泵供油提前角" in html


def test_complaint_shows_category_severity_original_order_and_words(client, api, net, farmer):
    oid = new_order(api, net, farmer)
    original = ServiceOrder.objects.get(pk=oid)
    status, complaint = create(api, net, {"order_type": "complaint", "customer_id": farmer[0].pk,
                                          "symptom": "师傅迟到半天，态度也不好",
                                          "complaint": {"about_order_id": oid, "category": "delay", "severity": "high"}})
    assert status == 201, complaint
    client.force_login(net.supervisor)
    html = client.get(reverse("web:order", args=[complaint["id"]])).content.decode()
    section = html[html.index('id="complaint"'):]
    assert "迟到或服务慢" in section or "服务" in section
    assert "高" in section and original.number in section
    assert "师傅迟到半天，态度也不好" in html


def test_orders_dispatched_to_the_station_show_on_its_phones(client, api, net, farmer):
    oid = new_order(api, net, farmer)
    _to_awaiting_dispatch(api, net, oid)
    Actor(api, net, net.repair_coordinator).ok(oid, "dispatch", organization_id=net.agency_shandong.pk)
    number = ServiceOrder.objects.get(pk=oid).number
    client.force_login(net.agency_tech)
    html = client.get(reverse("web:tech")).content.decode()
    assert 'id="waiting"' in html and number in html
    assert 'href="tel:13912345678"' in html and "uri.amap.com" in html
    client.force_login(net.other_agency_tech)
    assert number not in client.get(reverse("web:tech")).content.decode()


def test_the_phone_card_says_the_county_once(client, api, net):
    customer, machine = shandong_farmer(township="田柳镇", village="东头村")
    status, order = create(api, net, repair_body(customer, machine, field_location="寿光市田柳镇东头村北地"))
    assert status == 201
    _to_awaiting_dispatch(api, net, order["id"])
    Actor(api, net, net.repair_coordinator).ok(order["id"], "dispatch", organization_id=net.agency_shandong.pk)
    client.force_login(net.agency_tech)
    html = client.get(reverse("web:tech")).content.decode()
    assert "山东省潍坊市寿光市田柳镇东头村 · 北地" in html
    assert html.count("寿光市") == 1


def test_the_phone_view_reads_a_fixed_number_of_queries(client, api, net):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def dispatched(phone, serial):
        customer, machine = shandong_farmer(phone=phone, serial=serial)
        status, order = create(api, net, repair_body(customer, machine))
        assert status == 201, order
        _to_awaiting_dispatch(api, net, order["id"])
        Actor(api, net, net.repair_coordinator).ok(order["id"], "dispatch", organization_id=net.agency_shandong.pk)

    client.force_login(net.agency_tech)
    dispatched("13912340001", "LX904-SD-0101")
    with CaptureQueriesContext(connection) as one:
        assert client.get(reverse("web:tech")).status_code == 200
    for i in range(2, 6):
        dispatched(f"1391234000{i}", f"LX904-SD-01{i:02d}")
    with CaptureQueriesContext(connection) as five:
        html = client.get(reverse("web:tech")).content.decode()
    assert html.count('class="order-card"') == 5
    assert len(five) == len(one), [q["sql"][:120] for q in five.captured_queries]
