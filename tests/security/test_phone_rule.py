"""H1 and promise 1 of issue 12: one rule decides how a phone number is shown; partners never
receive a full number they may not see; every reveal to a partner is recorded and supervisors list
and export the records."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from django.urls import reverse

from tests.security.trust import PHONE, dispatched_to_agency, full_number_in, sold_by_agency
from tests.support import make_customer, make_user

pytestmark = pytest.mark.django_db
SRC = Path(__file__).resolve().parents[2] / "src" / "aftersales"


def test_the_call_desk_shows_an_agency_the_number_masked_as_the_api_does(net, client, api):
    owner, _machine = sold_by_agency(net)
    status, body = api.get(f"/customers/{owner.pk}", token=net.token(net.agency_tech))
    assert status == 200 and body["phones"][0]["masked"] is True
    client.force_login(net.agency_tech)
    page = client.get(reverse("web:desk") + f"?customer={owner.pk}").content.decode()
    assert owner.name in page  # the intake form is there...
    assert not full_number_in(page)  # ...without the number
    assert "183****2971" in page
    form = client.get(reverse("web:desk-form") + f"?customer={owner.pk}").content.decode()
    assert not full_number_in(form)


def test_a_dealer_user_without_a_role_reads_no_full_number(net, client, api):
    from aftersales.registry.models import PhoneReveal
    idle = make_user("dealer-idle", net.dealer_henan)  # a login, no job in the network
    owner = make_customer("孙红梅", PHONE, registered_by=net.dealer_henan, province="河南省", city="周口市")
    status, body = api.get(f"/customers/{owner.pk}", token=net.token(idle))
    assert status == 200 and body["phones"][0]["masked"] is True and body["phones"][0]["number"] == "183****2971"
    client.force_login(idle)
    assert not full_number_in(client.get(reverse("web:desk") + f"?customer={owner.pk}").content.decode())
    # The dealer's clerk (a call agent) registered the customer: the full number, and a record of it.
    status, body = api.get(f"/customers/{owner.pk}", token=net.token(net.dealer_clerk))
    assert body["phones"][0]["masked"] is False and body["phones"][0]["number"] == "+86" + PHONE
    reveal = PhoneReveal.objects.get(user=net.dealer_clerk)
    assert (reveal.customer_id, reveal.reason, reveal.organization_id) == (owner.pk, "registered", net.dealer_henan.pk)


def test_serving_an_open_order_reveals_the_number_and_leaves_a_record(net, api, client):
    from aftersales.registry.models import PhoneReveal
    owner, machine = sold_by_agency(net)
    order = dispatched_to_agency(net, owner, machine)
    assert PhoneReveal.objects.count() == 0  # the hotline's own reads are not partner reveals
    status, body = api.get(f"/orders/{order.pk}", token=net.token(net.agency_tech))
    assert status == 200 and body["contact_phone_masked"] is False and body["contact_phone"] == "183 6933 2971"
    client.force_login(net.agency_tech)
    page = client.get(reverse("web:order", args=[order.pk])).content.decode()
    assert "183 6933 2971" in page
    rows = list(PhoneReveal.objects.order_by("id").values_list("user_id", "customer_id", "order_id", "reason", "purpose"))
    assert rows == [(net.agency_tech.pk, owner.pk, order.pk, "serves_open_order", "api:order"),
                    (net.agency_tech.pk, owner.pk, order.pk, "serves_open_order", "web:order")]
    # Another agency sees nothing at all, and nothing is recorded for it.
    assert api.get(f"/orders/{order.pk}", token=net.token(net.other_agency_tech))[0] == 404
    assert not PhoneReveal.objects.filter(user=net.other_agency_tech).exists()


def test_supervisors_list_and_export_the_reveals_and_partners_may_not(net, api, client):
    owner, machine = sold_by_agency(net)
    order = dispatched_to_agency(net, owner, machine)
    api.get(f"/orders/{order.pk}", token=net.token(net.agency_tech))
    status, listed = api.get("/phone-reveals", token=net.token(net.supervisor))
    assert status == 200 and listed["count"] == 1
    item = listed["items"][0]
    assert (item["user_id"], item["customer_id"], item["customer_name"], item["reason"]) == (
        net.agency_tech.pk, owner.pk, "王秀英", "serves_open_order")
    resp = api.client.get("/api/v1/phone-reveals.csv", HTTP_AUTHORIZATION=f"Bearer {net.token(net.supervisor)}")
    assert resp.status_code == 200 and resp["Content-Disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO(b"".join(resp.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:4] == ["id", "at", "user_id", "user_name"] and rows[1][7] == "王秀英"
    for partner in (net.agency_tech, net.dealer_clerk, net.branch_tech):
        assert api.get("/phone-reveals", token=net.token(partner))[0] == 403
    client.force_login(net.supervisor)
    page = client.get(reverse("web:phone-reveals")).content.decode()
    assert "王秀英" in page and net.agency_tech.username in page
    export = client.get(reverse("web:phone-reveals") + "?format=csv")
    assert "王秀英" in b"".join(export.streaming_content).decode("utf-8-sig")
    client.force_login(net.agency_tech)
    assert client.get(reverse("web:phone-reveals")).status_code == 403


def test_no_template_or_serializer_prints_a_raw_phone_number():
    """Every number a person sees goes through registry.policies.phone_for ({% phone_for %} in
    templates). A raw number in a template expression or a serializer is a leak waiting to happen."""
    # (a form's error message about the field, ``errors.contact_phone``, is not a number)
    raw_in_template = re.compile(r"\{\{(?![^}]*errors\.)[^}]*(contact_phone|phones|phone\.number|\bp\.number|default_phone\|phone)[^}]*\}\}")
    offenders = []
    for path in SRC.rglob("templates/**/*.html"):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if raw_in_template.search(line):
                offenders.append(f"{path.relative_to(SRC)}:{n}: {line.strip()[:120]}")
    # Formatting a number for people happens in the rule (and the log gateway's masking) only.
    allowed = {"core/phones.py", "registry/policies.py", "notify/gateways.py", "notify/services.py", "registry/models.py",
               "web/templatetags/web.py"}  # the last: the old |phone filter, which only masks
    call = re.compile(r"\b(display_phone|mask_phone)\(")
    for path in SRC.rglob("*.py"):
        rel = str(path.relative_to(SRC))
        if rel in allowed or "/migrations/" in rel:
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if call.search(line):
                offenders.append(f"{rel}:{n}: {line.strip()[:120]}")
    # API answers build numbers from the rule's answer, never from the stored column.
    stored = re.compile(r"[\"'](number|contact_phone|display)[\"']\s*:\s*(p\.number|order\.contact_phone|o\.contact_phone)")
    for path in SRC.rglob("api.py"):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if stored.search(line):
                offenders.append(f"{path.relative_to(SRC)}:{n}: {line.strip()[:120]}")
    assert offenders == []
