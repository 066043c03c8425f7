"""Promise 9 of issue 12 (the CSP is tested with the a11y work): no-store on pages and answers
with customer data; downloads always as attachments with a safe name whose extension is the
detected type; database and upload files readable by the owner only; HSTS preload opt-in; a bad
or expired token answers 401 on every method."""

from __future__ import annotations

import os
import stat
from datetime import timedelta

import pytest
from django.db import connections
from django.urls import reverse
from django.utils import timezone

from aftersales.accounts.models import ApiToken
from aftersales.service.models import Attachment
from tests.security.test_hardening import _production
from tests.security.trust import dispatched_to_agency, sold_by_agency
from tests.service.helpers import png_bytes, upload


def _pdf() -> bytes:
    return b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@pytest.mark.django_db
def test_pages_and_answers_with_customer_data_are_not_stored(net, api, client):
    owner, machine = sold_by_agency(net)
    order = dispatched_to_agency(net, owner, machine)
    client.force_login(net.agent)
    for url in (reverse("web:desk") + f"?customer={owner.pk}", reverse("web:order", args=[order.pk]), reverse("web:queue")):
        resp = client.get(url)
        assert resp.status_code == 200 and "no-store" in resp["Cache-Control"], url
    resp = api.client.get(f"/api/v1/customers/{owner.pk}", HTTP_AUTHORIZATION=f"Bearer {net.token(net.agent)}")
    assert resp.status_code == 200 and "no-store" in resp["Cache-Control"] and "private" in resp["Cache-Control"]


@pytest.mark.django_db
def test_downloads_are_attachments_named_by_their_detected_type(net, api, client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    owner, machine = sold_by_agency(net)
    order = dispatched_to_agency(net, owner, machine)
    status, doc = upload(api, net, net.agency_tech, order.pk, _pdf(), name="report.html", kind="document")
    assert status == 201, doc
    status, photo = upload(api, net, net.agency_tech, order.pk, png_bytes(), name="../../现场 照片<b>.exe", kind="photo")
    assert status == 201, photo
    auth = {"HTTP_AUTHORIZATION": f"Bearer {net.token(net.agency_tech)}"}
    resp = api.client.get(f"/api/v1/orders/{order.pk}/attachments/{doc['id']}", **auth)
    assert resp["Content-Type"] == "application/pdf"
    assert resp["Content-Disposition"] == 'attachment; filename="report.pdf"'
    client.force_login(net.agency_tech)
    resp = client.get(reverse("web:attachment", args=[order.pk, photo["id"]]))
    disposition = resp["Content-Disposition"]
    assert disposition.startswith("attachment") and resp["Content-Type"] == "image/png"
    assert ".png" in disposition and ".exe" not in disposition and ".." not in disposition and "<" not in disposition
    # Stored readable by the service's own user only.
    stored = Attachment.objects.get(pk=photo["id"]).file.path
    assert stat.S_IMODE(os.stat(stored).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(stored)).st_mode) == 0o700


@pytest.mark.django_db
def test_the_sqlite_database_file_is_created_owner_only(tmp_path):
    from aftersales.core.sqlite3.base import DatabaseWrapper

    settings_dict = {**connections["default"].settings_dict, "ENGINE": "aftersales.core.sqlite3",
                     "NAME": str(tmp_path / "fresh.sqlite3"), "OPTIONS": {}}
    old = os.umask(0o022)
    try:
        wrapper = DatabaseWrapper(settings_dict, alias="fresh")
        with wrapper.cursor() as cursor:
            cursor.execute("CREATE TABLE t (x integer)")
        wrapper.close()
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "fresh.sqlite3").st_mode) == 0o600


def test_hsts_preload_is_opt_in(tmp_path):
    shown = _production(tmp_path, "shell", "-c", "from django.conf import settings as s; print(s.SECURE_HSTS_PRELOAD)")
    assert shown.stdout.split()[-1] == "False", shown.stdout + shown.stderr


@pytest.mark.django_db
def test_a_bad_or_expired_token_is_401_on_every_method(net):
    from django.test import Client

    from tests.support import make_customer

    owner = make_customer("王秀英", "18369332971", province="山东省", city="潍坊市")
    token = net.token(net.agent)
    ApiToken.objects.filter(user=net.agent).update(expires_at=timezone.now() - timedelta(days=1))
    # A browser-like client: CSRF is enforced, and it carries a session cookie (logged out or not).
    browser = Client(enforce_csrf_checks=True)
    browser.get(reverse("web:login"))
    browser.cookies["sessionid"] = "stale-session"
    for bearer in ("as_not-a-real-token", token):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {bearer}"}
        assert browser.get("/api/v1/customers", **headers).status_code == 401
        resp = browser.post("/api/v1/customers", data="{}", content_type="application/json", **headers)
        assert resp.status_code == 401, resp.content
        assert browser.put(f"/api/v1/customers/{owner.pk}", data="{}", content_type="application/json",
                           **headers).status_code == 401
        assert browser.delete("/api/v1/tokens/1", **headers).status_code == 401
    # No credentials at all: 401 too, not a CSRF 403.
    assert Client(enforce_csrf_checks=True).post("/api/v1/customers", data="{}",
                                                 content_type="application/json").status_code == 401
    # A real session without its CSRF token is still refused (the session's own protection).
    browser.force_login(net.agent)
    assert browser.post("/api/v1/customers", data="{}", content_type="application/json").status_code == 403
