"""The customer's phone portal: the SMS-code login (hashed codes, limits per phone and per client
address, tries per code), what a customer sees (only their own machines and orders), a fault report
through the hotline's intake (channel portal, the duplicate guard, the files' content checks) and
the customer's confirmation, rating and complaint through the same services as the tracking page."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from aftersales.core.errors import Throttled, ValidationFailed
from aftersales.core.models import ThrottleCounter
from aftersales.notify.models import OutboxMessage
from aftersales.portal import services
from aftersales.portal.models import LoginCode
from aftersales.service.models import Attachment, OrderStatus, ServiceOrder
from tests.service.helpers import png_bytes, shandong_farmer
from tests.support import make_customer, make_machine

PHONE = "+8613912345678"


def sent_code(phone: str = PHONE) -> str:
    return OutboxMessage.objects.filter(template="portal_code", recipient=phone).latest("id").context["code"]


def login(client, phone="13912345678") -> None:
    assert client.post("/m/login/", {"phone": phone}).status_code == 200
    resp = client.post("/m/login/", {"step": "code", "phone": phone, "code": sent_code()})
    assert resp.status_code == 302, resp.content[:500]


@pytest.mark.django_db
def test_code_is_stored_only_as_a_keyed_hash_and_works_once(net):
    shandong_farmer()
    services.login_code_send(phone="139 1234 5678", client="203.0.113.5")
    code = sent_code()
    row = LoginCode.objects.get()
    assert row.phone == PHONE and code not in row.code_hash and len(row.code_hash) == 64
    message = OutboxMessage.objects.get(template="portal_code")
    assert message.context == {"code": code, "minutes": 5}
    assert services.login_code_verify(phone="13912345678", code=code, client="203.0.113.5") == PHONE
    with pytest.raises(ValidationFailed) as exc:  # spent
        services.login_code_verify(phone="13912345678", code=code, client="203.0.113.5")
    assert "code" in exc.value.fields


@pytest.mark.django_db
def test_an_unknown_number_gets_the_same_answer_and_no_sms(net):
    services.login_code_send(phone="13800000000", client="203.0.113.5")
    assert not OutboxMessage.objects.filter(template="portal_code").exists() and not LoginCode.objects.exists()


@pytest.mark.django_db
def test_sending_is_limited_per_phone_and_per_client_address(net):
    shandong_farmer()
    for _ in range(services.SEND_PER_PHONE):
        services.login_code_send(phone="13912345678", client="203.0.113.5")
    with pytest.raises(Throttled):
        services.login_code_send(phone="13912345678", client="203.0.113.6")
    assert OutboxMessage.objects.filter(template="portal_code").count() == services.SEND_PER_PHONE
    # One address trying many numbers.
    ThrottleCounter.objects.all().delete()
    for i in range(services.SEND_PER_CLIENT):
        services.login_code_send(phone=f"138{i:08d}", client="198.51.100.7")
    with pytest.raises(Throttled):
        services.login_code_send(phone="13912345678", client="198.51.100.7")


@pytest.mark.django_db
def test_guessing_spends_the_code_and_then_pauses_the_phone(net):
    shandong_farmer()
    services.login_code_send(phone="13912345678", client="203.0.113.5")
    code = sent_code()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(services.CODE_TRIES):
        with pytest.raises(ValidationFailed):
            services.login_code_verify(phone="13912345678", code=wrong, client="203.0.113.5")
    # Five wrong tries spent the code: the right one no longer opens the portal.
    with pytest.raises(ValidationFailed):
        services.login_code_verify(phone="13912345678", code=code, client="203.0.113.5")
    for _ in range(services.FAIL_LIMIT - services.CODE_TRIES - 1):
        with pytest.raises(ValidationFailed):
            services.login_code_verify(phone="13912345678", code=wrong, client="203.0.113.9")
    with pytest.raises(Throttled):  # the phone is paused, from any address
        services.login_code_verify(phone="13912345678", code=wrong, client="192.0.2.1")


@pytest.mark.django_db
def test_pages_need_the_login_and_show_only_the_customers_own(net, client):
    customer, machine = shandong_farmer()
    other = make_customer("王二", "13700000001", province="山东省")
    foreign = make_machine("LX904-OTHER-1", other)
    assert client.get("/m/").status_code == 302
    login(client)
    page = client.get("/m/").content.decode()
    assert machine.serial_number in page and foreign.serial_number not in page
    assert client.get(f"/m/machines/{foreign.pk}/").status_code == 404
    assert client.get(f"/m/machines/{machine.pk}/").status_code == 200


@pytest.mark.django_db
def test_the_plate_qr_opens_the_machine_after_login(net, client):
    _customer, machine = shandong_farmer()
    resp = client.get(f"/m/s/{machine.serial_number}/")
    assert resp.status_code == 302 and resp["Location"] == "/m/login/"
    assert machine.serial_number in client.get("/m/login/").content.decode()
    client.post("/m/login/", {"phone": "13912345678"})
    resp = client.post("/m/login/", {"step": "code", "phone": "13912345678", "code": sent_code()})
    assert resp["Location"] == f"/m/machines/{machine.pk}/"


def _report(client, machine, **extra):
    data = {"machine": machine.pk, "symptom": "收割机割台不转，有异响", "stopped": "1", "address": "寿光市田柳镇东地",
            "latitude": "36.8812", "longitude": "118.7301", "key": extra.pop("key", "k1"), **extra}
    return client.post("/m/report/", data)


@pytest.mark.django_db
def test_a_fault_report_enters_intake_with_the_portal_channel_and_files(net, client):
    _customer, machine = shandong_farmer()
    login(client)
    photo = SimpleUploadedFile("a.png", png_bytes(), content_type="image/png")
    voice = SimpleUploadedFile("v.amr", b"#!AMR\n" + b"\x00" * 200, content_type="audio/amr")
    resp = _report(client, machine, photos=[photo], voice=voice)
    assert resp.status_code == 302, resp.content.decode()[:2000]
    order = ServiceOrder.objects.get()
    assert order.channel == "portal" and order.urgency == "critical" and order.service_level == "emergency"
    assert order.contact_phone == PHONE and "GPS 36.88120,118.73010" in order.field_location
    assert sorted(Attachment.objects.filter(order=order).values_list("content_type", flat=True)) == ["audio/amr", "image/png"]
    assert order.owner.username == "portal" and order.events.first().data["channel"] == "portal"
    # The same form sent twice (a double tap) makes one order.
    assert _report(client, machine).status_code == 302 and ServiceOrder.objects.count() == 1
    # A new report of the same machine meets the duplicate guard and names the open order.
    resp = _report(client, machine, key="k2")
    assert resp.status_code == 409 and order.number in resp.content.decode()
    assert ServiceOrder.objects.count() == 1


@pytest.mark.django_db
def test_a_file_that_is_not_what_it_claims_is_refused_and_no_order_is_made(net, client):
    _customer, machine = shandong_farmer()
    login(client)
    fake = SimpleUploadedFile("x.mp4", b"MZ\x90\x00" + b"\x00" * 100, content_type="video/mp4")
    resp = _report(client, machine, video=fake)
    assert resp.status_code == 422 and not ServiceOrder.objects.exists()
    big = SimpleUploadedFile("b.png", png_bytes() + b"\x00" * (10 * 1024 * 1024), content_type="image/png")
    assert _report(client, machine, photos=[big]).status_code == 422 and not ServiceOrder.objects.exists()


@pytest.mark.django_db
def test_the_customer_rates_and_complains_about_their_order(net, client):
    from tests.web.test_a11y import build_orders

    orders = build_orders(net)  # the farmer 刘大壮 of 13912345678
    login(client)
    completed = orders.completed
    resp = client.post(f"/m/orders/{completed.number}/rate", {"version": completed.version, "score": 5, "comment": "好"})
    assert resp.status_code == 302
    completed.refresh_from_db()
    assert completed.status == OrderStatus.CLOSED and completed.rating.score == 5
    assert completed.events.last().data["by"] == "customer"
    resp = client.post(f"/m/orders/{orders.closed.number}/complain",
                       {"category": "charges", "text": "收费不清楚", "key": "c1"})
    assert resp.status_code == 302
    complaint = ServiceOrder.objects.get(order_type="complaint")
    assert complaint.channel == "portal" and complaint.complaint.about_order_id == orders.closed.pk
    # Another customer's order is a 404.
    other = make_customer("王二", "13700000001", province="山东省")
    stranger = make_machine("LX904-OTHER-2", other)
    from aftersales.service import services as order_services
    theirs = order_services.order_create(actor=net.agent, data=order_services.OrderInput(
        order_type="repair", customer_id=other.pk, machine_id=stranger.pk, symptom="漏油")).order
    assert client.get(f"/m/orders/{theirs.number}/").status_code == 404
    assert client.post(f"/m/orders/{theirs.number}/complain", {"category": "other", "text": "x"}).status_code == 404


@pytest.mark.django_db
def test_label_sheets_print_a_qr_per_visible_machine(net, client):
    from aftersales.portal.labels import qr_svg, scan_url

    _customer, machine = shandong_farmer()
    second = make_machine("LX904-SD-0002", _customer)
    client.force_login(net.agent)
    page = client.get("/machines/labels/?q=LX904-SD").content.decode()
    assert page.count('class="label"') == 2 and machine.serial_number in page and second.serial_number in page
    # The code on the plate is the portal's scan link of that serial.
    assert scan_url(machine.serial_number).endswith(f"/m/s/{machine.serial_number}/")
    assert str(qr_svg(scan_url(machine.serial_number))) in page
    assert "/machines/labels/?q=LX904-SD" in client.get("/machines/?q=LX904-SD").content.decode()
    # A batch picked in the admin.
    client.force_login(net.admin)
    resp = client.post("/admin/registry/machine/", {"action": "print_qr_labels", "_selected_action": [second.pk]})
    assert resp.status_code == 302 and resp["Location"] == f"/machines/labels/?ids={second.pk}"
    page = client.get(resp["Location"]).content.decode()
    assert page.count('class="label"') == 1 and second.serial_number in page
    # A dealer prints only the machines it may see.
    client.force_login(net.dealer_clerk)
    assert 'class="label"' not in client.get("/machines/labels/?q=LX904-SD").content.decode()
