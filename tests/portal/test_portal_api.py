"""The portal API for the customer's phone app (/api/v1/portal/...), over real HTTP against the live
server: the SMS code and the portal token, the customer's machines and orders, a fault report
through the hotline's intake (idempotent, channel portal), following it to the rating; another
customer's objects are 404; codes are throttled; staff and portal tokens do not cross."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from aftersales.notify.models import OutboxMessage
from aftersales.portal import services
from aftersales.portal.models import LoginCode, PortalToken
from aftersales.service.models import Attachment, OrderStatus, ServiceOrder
from tests.service.helpers import last_code, png_bytes, shandong_farmer
from tests.support import make_customer, make_machine
from tests.web.test_a11y import step

PHONE = "+8613912345678"
HUGE = 2**63


class Http:
    """A phone app's calls: JSON or multipart bodies, the answer's status and JSON."""

    def __init__(self, base: str):
        self.base = base.rstrip("/") + "/api/v1"

    def __call__(self, method: str, path: str, body=None, *, token: str = "", headers=None, files=None):
        hdrs = {"Accept-Language": "en", **(headers or {})}
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        data = None
        if files is not None or (body is not None and method == "POST" and path.endswith("/reports")):
            boundary = uuid.uuid4().hex
            parts = []
            for name, value in (body or {}).items():
                parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
                             + str(value).encode() + b"\r\n")
            for name, filename, content_type, content in files or []:
                parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                             f"Content-Type: {content_type}\r\n\r\n".encode() + content + b"\r\n")
            data = b"".join(parts) + f"--{boundary}--\r\n".encode()
            hdrs["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        elif body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                raw = answer.read()
                return answer.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            return exc.code, json.loads(raw) if raw else None


@pytest.fixture
def http(live_server):
    return Http(live_server.url)


def sent_code(phone: str = PHONE) -> str:
    return OutboxMessage.objects.filter(template="portal_code", recipient=phone).latest("id").context["code"]


def log_in(http, phone="13912345678") -> str:
    status, body = http("POST", "/portal/login/code", {"phone": phone})
    assert status == 202 and body == {"sent": True, "expires_in": 300}
    status, body = http("POST", "/portal/login/token", {"phone": phone, "code": sent_code()})
    assert status == 200, body
    return body["token"]


def fields(body) -> list[str]:
    return [e["field"] for e in body["errors"]]


def test_a_customer_reports_a_fault_and_follows_it_to_the_rating(http, net):
    customer, machine = shandong_farmer()
    token = log_in(http)
    row = PortalToken.objects.get()
    assert row.phone == PHONE and token not in row.key_hash and token.startswith("pt_") and row.expires_at > timezone.now()
    status, machines = http("GET", "/portal/machines", token=token)
    assert status == 200 and [m["serial_number"] for m in machines] == [machine.serial_number]
    assert machines[0]["owner"] == customer.name and set(machines[0]["warranty"]) >= {"covered", "end", "engine_covered"}
    # The report: a photo, the position, stopped in the field; retried with the same key: one order.
    report = {"machine_id": machine.pk, "symptom": "收割机割台不转，有异响", "stopped": "true",
              "address": "寿光市田柳镇东地", "latitude": "36.8812", "longitude": "118.7301"}
    photo = [("photos", "a.png", "image/png", png_bytes())]
    status, first = http("POST", "/portal/reports", report, token=token, files=photo, headers={"Idempotency-Key": "r-1"})
    assert status == 201, first
    status, again = http("POST", "/portal/reports", report, token=token, files=photo, headers={"Idempotency-Key": "r-1"})
    assert status == 201 and again["number"] == first["number"]
    order = ServiceOrder.objects.get()
    assert (order.channel, order.urgency, order.contact_phone) == ("portal", "critical", PHONE)
    assert "GPS 36.88120,118.73010" in order.field_location
    assert list(Attachment.objects.filter(order=order).values_list("content_type", flat=True)) == ["image/png"]
    assert first["channel"] == "portal" and first["files"] == [{"kind": "photo", "content_type": "image/png",
                                                                 "original_name": "a.png"}]
    # A second report of the same machine with a new key meets the duplicate guard.
    status, body = http("POST", "/portal/reports", report, token=token, headers={"Idempotency-Key": "r-2"})
    assert status == 409 and body["code"] == "duplicate_order" and body["current"]["number"] == order.number
    assert ServiceOrder.objects.count() == 1
    # Following it: the list, the detail with the progress, no internal notes.
    status, orders = http("GET", "/portal/orders", token=token)
    assert status == 200 and [o["number"] for o in orders] == [order.number]
    status, detail = http("GET", f"/portal/orders/{order.number}", token=token)
    assert status == 200 and detail["steps"][0]["current"] and not detail["may_confirm"]
    assert "notes" not in detail and "events" not in detail
    # The network repairs it; the customer confirms with the code from the check-out SMS.
    step(net.info_coordinator, order, "forward", hotline_technician_id=net.hotline_tech.pk)
    step(net.hotline_tech, order, "callback")
    step(net.hotline_tech, order, "confirm_mode", service_mode="on_site")
    step(net.repair_coordinator, order, "dispatch", organization_id=net.agency_shandong.pk)
    for action, data in (("accept", {}), ("assign", {"technician_id": net.agency_tech.pk}), ("tech_accept", {}),
                         ("schedule", {"appointment_at": timezone.now() + timedelta(hours=3)}), ("check_in", {}),
                         ("record_service", {"fault_found": "皮带断", "solution": "换皮带"}), ("check_out", {})):
        step(net.agency_tech, order, action, **data)
    status, detail = http("GET", f"/portal/orders/{order.number}", token=token)
    assert detail["may_confirm"] and detail["technician"] and detail["organization"] == net.agency_shandong.name
    status, body = http("POST", f"/portal/orders/{order.number}/confirm", {"version": detail["version"], "code": "000000"},
                        token=token)
    assert status == 422 and fields(body) == ["code"]
    status, detail = http("POST", f"/portal/orders/{order.number}/confirm",
                          {"version": detail["version"], "code": last_code(order.pk)}, token=token)
    assert status == 200 and detail["status"] == OrderStatus.COMPLETED and detail["may_rate"]
    status, body = http("POST", f"/portal/orders/{order.number}/rate", {"version": detail["version"], "score": 9},
                        token=token)
    assert status == 422 and fields(body) == ["score"]
    status, detail = http("POST", f"/portal/orders/{order.number}/rate",
                          {"version": detail["version"], "score": 4, "comment": "修得快"}, token=token)
    assert status == 200 and detail["status"] == OrderStatus.CLOSED and detail["rating"] == {"score": 4, "comment": "修得快"}
    # And a complaint about it, once per key.
    complaint = {"category": "charges", "text": "收费不清楚"}
    status, filed = http("POST", f"/portal/orders/{order.number}/complaints", complaint, token=token,
                         headers={"Idempotency-Key": "c-1"})
    assert status == 201 and filed["order_type"] == "complaint" and filed["channel"] == "portal"
    status, again = http("POST", f"/portal/orders/{order.number}/complaints", complaint, token=token,
                         headers={"Idempotency-Key": "c-1"})
    assert status == 201 and again["number"] == filed["number"]
    assert ServiceOrder.objects.filter(order_type="complaint").count() == 1
    status, body = http("POST", f"/portal/orders/{order.number}/complaints", {"category": "nonsense", "text": "x"},
                        token=token)
    assert status == 422 and fields(body) == ["category"]
    # The machine's history holds the repair.
    status, page = http("GET", f"/portal/machines/{machine.pk}", token=token)
    assert status == 200 and [o["number"] for o in page["history"]] == [order.number]


def test_another_customers_machine_and_order_are_404_and_bad_input_names_the_field(http, net):
    _customer, machine = shandong_farmer()
    other = make_customer("王二", "13700000001", province="山东省")
    foreign = make_machine("LX904-OTHER-1", other)
    from aftersales.service import services as order_services

    theirs = order_services.order_create(actor=net.agent, data=order_services.OrderInput(
        order_type="repair", customer_id=other.pk, machine_id=foreign.pk, symptom="漏油")).order
    token = log_in(http)
    status, machines = http("GET", "/portal/machines", token=token)
    assert [m["id"] for m in machines] == [machine.pk]
    assert http("GET", f"/portal/machines/{foreign.pk}", token=token)[0] == 404
    assert http("GET", f"/portal/orders/{theirs.number}", token=token)[0] == 404
    assert http("POST", f"/portal/orders/{theirs.number}/rate", {"version": 1, "score": 5}, token=token)[0] == 404
    assert http("POST", f"/portal/orders/{theirs.number}/complaints", {"category": "other", "text": "x"},
                token=token)[0] == 404
    status, _body = http("POST", "/portal/reports", {"machine_id": foreign.pk, "symptom": "漏油"}, token=token)
    assert status == 404 and ServiceOrder.objects.count() == 1
    # Bad input: a 422 naming the field, nothing made.
    status, body = http("GET", f"/portal/machines/{HUGE}", token=token)
    assert status == 422 and fields(body) == ["machine_id"]
    status, body = http("POST", "/portal/reports", {"machine_id": HUGE, "symptom": "漏油"}, token=token)
    assert status == 422 and fields(body) == ["machine_id"]
    status, body = http("POST", "/portal/reports", {"machine_id": machine.pk, "symptom": "x" * 4001}, token=token)
    assert status == 422 and fields(body) == ["symptom"]
    fake = [("video", "v.mp4", "video/mp4", b"MZ\x90\x00" + b"\x00" * 100)]
    status, body = http("POST", "/portal/reports", {"machine_id": machine.pk, "symptom": "漏油"}, token=token, files=fake)
    assert status == 422 and fields(body) == ["video"]
    status, body = http("POST", "/portal/login/code", {"phone": "12345"})
    assert status == 422 and fields(body) == ["phone"]
    assert ServiceOrder.objects.count() == 1


def test_wrong_and_expired_codes_are_refused_and_guessing_is_throttled(http, net):
    shandong_farmer()
    http("POST", "/portal/login/code", {"phone": "13912345678"})
    code = sent_code()
    LoginCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    status, body = http("POST", "/portal/login/token", {"phone": "13912345678", "code": code})
    assert status == 422 and fields(body) == ["code"]
    http("POST", "/portal/login/code", {"phone": "13912345678"})
    good = sent_code()
    wrong = f"{(int(good) + 1) % 10**6:06d}"
    answers = [http("POST", "/portal/login/token", {"phone": "13912345678", "code": wrong})[0]
               for _ in range(services.FAIL_LIMIT - 2)]
    assert set(answers) == {422}
    # The tenth failure (the expired code counted too) pauses the phone and the address: even the
    # right code waits now.
    status, _body = http("POST", "/portal/login/token", {"phone": "13912345678", "code": wrong})
    assert status == 422
    status, body = http("POST", "/portal/login/token", {"phone": "13912345678", "code": good})
    assert status == 429 and body["code"] == "throttled"
    assert not PortalToken.objects.exists()
    # Sending is limited as on the page: 3 codes per phone in 15 minutes (two sent above).
    assert http("POST", "/portal/login/code", {"phone": "13912345678"})[0] == 202
    assert http("POST", "/portal/login/code", {"phone": "13912345678"})[0] == 429


def test_staff_and_portal_tokens_do_not_cross_and_a_revoked_or_expired_token_opens_nothing(http, net):
    shandong_farmer()
    staff = net.token(net.agent)
    assert http("GET", "/portal/machines", token=staff)[0] == 401
    assert http("GET", "/portal/orders")[0] == 401
    token = log_in(http)
    assert http("GET", "/portal/machines", token=token)[0] == 200
    assert http("GET", "/orders", token=token)[0] == 401
    assert http("GET", "/customers", token=token)[0] == 401
    assert http("GET", "/orders", token=staff)[0] == 200
    PortalToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert http("GET", "/portal/machines", token=token)[0] == 401
    token = log_in(http)
    assert http("POST", "/portal/logout", token=token)[0] == 204
    assert http("GET", "/portal/machines", token=token)[0] == 401
