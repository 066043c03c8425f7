"""Production settings pass Django's deploy check; files are served safely; phone numbers never
reach the logs."""

import logging
import os
import secrets
import subprocess
import sys

import pytest

from tests.service.helpers import Actor, png_bytes, upload
from tests.support import make_customer, make_machine

PHONE = "13987654321"


def _production(tmp_path, *args):
    env = {**os.environ, "AFTERSALES_VAR_DIR": str(tmp_path), "AFTERSALES_PRODUCTION": "1", "AFTERSALES_DEBUG": "0",
           "AFTERSALES_SECRET_KEY": secrets.token_urlsafe(60), "AFTERSALES_ALLOWED_HOSTS": "service.example.com",
           "AFTERSALES_SITE_URL": "https://service.example.com"}
    # Set by the browser tests' process for Playwright; a deployment never has it.
    for name in ("DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"):
        env.pop(name, None)
    return subprocess.run([sys.executable, "-m", "aftersales.cli", *args], env=env, capture_output=True, text=True,
                          timeout=120)


def test_deploy_check_is_clean_and_cookies_are_secure_in_production(tmp_path):
    check = _production(tmp_path, "check", "--deploy", "--fail-level", "DEBUG")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "no issues" in check.stdout
    shown = _production(tmp_path, "shell", "-c", "from django.conf import settings as s; print(s.SESSION_COOKIE_SECURE, "
                        "s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.SECURE_SSL_REDIRECT, s.DEBUG)")
    assert shown.stdout.split()[-5:] == ["True", "True", "True", "True", "False"], shown.stdout + shown.stderr


def _dispatched(api, net):
    owner = make_customer("赵铁柱", PHONE, province="山东省", city="潍坊市", county="寿光市")
    machine = make_machine("LX904-SEC-0001", owner)
    status, lookup = api.get("/intake/lookup", token=net.token(net.agent), phone=PHONE[-4:])
    assert status == 200
    status, order = api.post("/orders", {"order_type": "repair", "customer_id": owner.pk, "machine_id": machine.pk,
                                         "contact_phone": PHONE, "symptom": "离合器打滑"}, token=net.token(net.agent))
    assert status == 201, order
    oid = order["id"]
    Actor(api, net, net.info_coordinator).ok(oid, "forward", hotline_technician_id=net.hotline_tech.pk)
    hotline = Actor(api, net, net.hotline_tech)
    hotline.ok(oid, "callback")
    hotline.ok(oid, "confirm_mode", service_mode=order["proposed_mode"] or "on_site", reason="")
    Actor(api, net, net.repair_coordinator).ok(oid, "dispatch", organization_id=net.agency_shandong.pk)
    return oid


@pytest.mark.django_db
def test_no_phone_number_is_written_to_the_logs(net, api, caplog):
    caplog.set_level(logging.DEBUG)
    oid = _dispatched(api, net)
    # Errors and denials log too: a bad phone, another agency's look at the order, an unknown order.
    assert api.post("/orders", {"order_type": "repair", "contact_phone": PHONE + "99"}, token=net.token(net.agent))[0] == 422
    assert api.get(f"/orders/{oid}", token=net.token(net.other_agency_tech))[0] == 404
    assert api.get(f"/intake/lookup", token=net.token(net.other_agency_tech), phone=PHONE)[0] == 200
    assert caplog.records  # the run did log (requests refused, warnings)
    text = caplog.text + "".join(str(r.args) for r in caplog.records)
    for form in (PHONE, "+86" + PHONE, PHONE[::-1], f"{PHONE[:3]} {PHONE[3:7]} {PHONE[7:]}"):
        assert form not in text


@pytest.mark.django_db
def test_files_download_safely_and_only_to_who_sees_the_order(net, api):
    oid = _dispatched(api, net)
    status, seen = api.get(f"/orders/{oid}", token=net.token(net.agency_tech))
    # Serving the open order, the agency needs the number; masking for others is in tests/service.
    assert status == 200 and seen["contact_phone_masked"] is False
    status, photo = upload(api, net, net.agency_tech, oid, png_bytes(), name="<script>.html.png")
    assert status == 201, photo
    resp = api.client.get(f"/api/v1/orders/{oid}/attachments/{photo['id']}",
                          HTTP_AUTHORIZATION=f"Bearer {net.token(net.agency_tech)}")
    assert resp.status_code == 200
    assert resp["Content-Type"] == "image/png"
    assert resp["X-Content-Type-Options"] == "nosniff"
    assert resp["Content-Disposition"].startswith("attachment")
    assert api.get(f"/orders/{oid}/attachments/{photo['id']}", token=net.token(net.other_agency_tech))[0] == 404
