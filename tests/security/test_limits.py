"""M6 and promise 7 of issue 12: limits everywhere. Text fields have lengths and an over-long one
is a 422 naming the field; attachments are limited per order, per user and hour and per
organization; integers the database cannot hold are 422 (not 500); a malformed page cursor is a
400; an over-long Idempotency-Key is a 422, never silently cut."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from aftersales.service.models import Attachment, IdempotencyKey, ServiceOrder
from tests.security.trust import dispatched_to_agency, sold_by_agency
from tests.service.helpers import png_bytes, upload
from tests.support import make_machine

pytestmark = pytest.mark.django_db
HUGE = 2**63  # one more than a 64-bit column holds


def _order_body(owner, machine, **extra):
    return {"order_type": "repair", "customer_id": owner.pk, "machine_id": machine.pk, "symptom": "发动机冒黑烟", **extra}


def test_an_over_long_symptom_is_refused_naming_the_field(net, api, client):
    owner, machine = sold_by_agency(net)
    symptom = "发动机冒黑烟，动力不足。" * 100_000  # 1.2 million characters, 3.6 MB of UTF-8
    status, body = api.post("/orders", _order_body(owner, machine, symptom=symptom), token=net.token(net.agent))
    assert status == 422 and [e["field"] for e in body["errors"]] == ["symptom"]
    # The call desk posts to the same service: the same refusal, nothing saved.
    client.force_login(net.agent)
    resp = client.post(reverse("web:desk-intake"), {"customer": owner.pk, "machine": machine.pk, "order_type": "repair",
                                                    "symptom": symptom[:50_000]})
    assert resp.status_code == 422
    assert ServiceOrder.objects.count() == 0


@pytest.mark.parametrize("field,value", [("name", "张" * 101), ("notes", "备注" * 2_000), ("address", "村" * 201)])
def test_customer_text_fields_have_lengths(net, api, field, value):
    body = {"name": "张三", "phones": ["13812340000"], field: value}
    status, answer = api.post("/customers", body, token=net.token(net.agent))
    assert status == 422 and field in [e["field"] for e in answer["errors"]]


def test_action_texts_have_lengths(net, api):
    owner, machine = sold_by_agency(net)
    order = dispatched_to_agency(net, owner, machine)
    status, body = api.post(f"/orders/{order.pk}/actions/follow_up", {
        "version": order.version, "data": {"summary": "客户又来电" * 1_000}}, token=net.token(net.agent))
    assert status == 422 and any(e["field"].endswith("summary") for e in body["errors"])
    status, body = api.post(f"/orders/{order.pk}/actions/follow_up", {
        "version": order.version, "note": "备注" * 3_000, "data": {"summary": "再次来电"}}, token=net.token(net.agent))
    assert status == 422 and [e["field"] for e in body["errors"]] == ["note"]


def test_integers_out_of_range_are_422_on_every_endpoint(net, api):
    """Every integer in a path or query string of the OpenAPI document, sent as 2**63."""
    schema = api.client.get("/api/v1/openapi.json").json()
    token = net.token(net.admin)
    # The customer portal's endpoints take a portal token (a customer's phone), not a staff one.
    from aftersales.portal.services import portal_token_issue
    from tests.service.helpers import shandong_farmer

    shandong_farmer()
    portal_token = portal_token_issue(phone="+8613912345678")[1]
    checked, wrong = 0, []
    for path, operations in schema["paths"].items():
        for method, op in operations.items():
            params = [p for p in op.get("parameters", []) if _is_integer(p.get("schema", {}))]
            for param in params:
                url = "/api" + path if path.startswith("/v1") else path
                query = {}
                for p in op.get("parameters", []):
                    if p["in"] == "path":
                        url = url.replace("{" + p["name"] + "}", str(HUGE if p is param else 1))
                if param["in"] == "query":
                    query[param["name"]] = str(HUGE)
                kwargs = {"HTTP_AUTHORIZATION": f"Bearer {portal_token if path.startswith('/api/v1/portal/') else token}"}
                if method == "get":
                    resp = api.client.get(url, query, **kwargs)
                else:
                    target = url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
                    resp = getattr(api.client, method)(target, data="{}", content_type="application/json", **kwargs)
                checked += 1
                if resp.status_code != 422:
                    wrong.append(f"{method.upper()} {url} {param['name']}: {resp.status_code}")
    assert checked > 20
    assert wrong == []


def _is_integer(schema: dict) -> bool:
    if schema.get("type") == "integer":
        return True
    return any(s.get("type") == "integer" for s in schema.get("anyOf", []))


def test_a_malformed_queue_cursor_is_a_400(net, client):
    client.force_login(net.info_coordinator)
    for after in ("0001-01-01_1", "9999-12-31T23:59:59+00:00_1", f"2026-01-01T00:00:00+08:00_{HUGE}", "nonsense", "_"):
        assert client.get(reverse("web:queue"), {"after": after}).status_code == 400, after
    assert client.get(reverse("web:queue")).status_code == 200


def test_an_over_long_idempotency_key_is_refused_not_cut(net, api):
    owner, machine = sold_by_agency(net)
    key = "k" * 100

    def post(k, **extra):
        resp = api.client.post("/api/v1/orders", data=json.dumps(_order_body(owner, machine, **extra)),
                               content_type="application/json", HTTP_IDEMPOTENCY_KEY=k,
                               HTTP_AUTHORIZATION=f"Bearer {net.token(net.agent)}")
        return resp.status_code, resp.json()

    assert post(key + "-first")[0] == 422
    assert IdempotencyKey.objects.count() == 0 and ServiceOrder.objects.count() == 0
    assert post(key)[0] == 201  # exactly at the limit is fine


def test_attachments_are_limited_per_order_per_user_and_per_organization(net, api, settings):
    owner, machine = sold_by_agency(net)
    order = dispatched_to_agency(net, owner, machine)
    settings.ATTACHMENTS_PER_ORDER = 3
    answers = [upload(api, net, net.agent, order.pk, png_bytes())[0] for _ in range(4)]
    assert answers == [201, 201, 201, 422]
    second = dispatched_to_agency(net, owner, make_machine("LX904-TRUST-0002", owner), symptom="液压系统漏油，提升无力")
    settings.ATTACHMENTS_PER_ORDER = 50
    settings.ATTACHMENTS_PER_USER_HOUR = 3
    status, body = upload(api, net, net.agent, second.pk, png_bytes())
    assert status == 429 and body["code"] == "throttled"  # three stored this hour already
    assert upload(api, net, net.hotline_tech, second.pk, png_bytes())[0] == 201  # another user's own hour
    settings.ATTACHMENTS_PER_USER_HOUR = 60
    settings.ATTACHMENT_BYTES_PER_ORGANIZATION = sum(Attachment.objects.values_list("size", flat=True)) + 10
    status, body = upload(api, net, net.hotline_tech, second.pk, png_bytes())
    assert status == 422 and body["errors"][0]["field"] == "file"
