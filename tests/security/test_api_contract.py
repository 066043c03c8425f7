"""The API's error contract (issue 11, item 4): every 4xx and 5xx under /api/ is
``{code, message, errors: [{field, message}]}`` in the language asked for (Chinese by default), and
each field is named by its path in the request itself.

The first tests walk every operation of the OpenAPI document with invalid input; the rest provoke
the answers that never reach an operation (unknown path, wrong method, oversize or malformed body,
a server error) and the rules about field paths, filters and transitions."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from aftersales.service import hooks
from aftersales.service.models import ServiceOrder
from tests.service.helpers import Actor, create, repair_body, shandong_farmer, state

pytestmark = pytest.mark.django_db

CJK = re.compile(r"[\u4e00-\u9fff]")
PYDANTIC_ENGLISH = ("Field required", "Input should", "valid datetime", "valid integer", "String should")
PUBLIC_PREFIXES = ("/api/v1/public/",)


def assert_error(resp, language: str = "zh") -> dict:
    """The one shape, in the language asked for, with no traceback."""
    assert resp["Content-Type"].startswith("application/json"), (resp.status_code, resp.content[:200])
    body = resp.json()
    assert isinstance(body.get("code"), str) and body["code"], body
    assert isinstance(body.get("message"), str) and body["message"], body
    assert isinstance(body.get("errors"), list), body
    for err in body["errors"]:
        assert set(err) == {"field", "message"} and err["field"] and err["message"], body
    texts = [body["message"]] + [e["message"] for e in body["errors"]]
    if language == "zh":
        assert CJK.search(body["message"]), body
        for text in texts:
            assert not any(p in text for p in PYDANTIC_ENGLISH), body
    else:
        for text in texts:
            assert not CJK.search(text), body
    assert "Traceback" not in resp.content.decode()
    return body


def _fields(body) -> set[str]:
    return {e["field"] for e in body["errors"]}


@pytest.fixture
def doc(client):
    return client.get("/api/v1/openapi.json").json()


def _operations(doc):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            yield path, method, op


def _resolve(doc, schema):
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return _resolve(doc, schema["allOf"][0])
    return schema


def _wrong_value(doc, schema):
    """A value of the wrong type for the property's schema."""
    schema = _resolve(doc, schema)
    types = {schema.get("type")} | {s.get("type") for s in schema.get("anyOf", [])}
    if types & {"integer", "number", "boolean", "array"} or "properties" in schema or "object" in types:
        return "not-a-value"
    return {"not": "a string"}


def _body_schema(doc, op):
    content = op.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return None
    return _resolve(doc, content["application/json"]["schema"])


def _url(path: str, ids: dict) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(ids.get(m.group(1), 1)), path)


@pytest.fixture
def world(net, api):
    """One object of each kind for the path parameters, so the walk reaches validation."""
    customer, machine = shandong_farmer()
    status, order = create(api, net, repair_body(customer, machine))
    assert status == 201
    return {"order_id": order["id"], "customer_id": customer.pk, "machine_id": machine.pk,
            "org_id": net.agency_shandong.pk, "user_id": net.agent.pk, "token": "nope"}


def test_every_operation_answers_invalid_input_in_the_one_shape_and_names_the_field(net, client, doc, world):
    """Rule: every 4xx is {code, message, errors[field, message]}; a 422 names the request's own fields."""
    token = net.token(net.admin)
    walked = 0
    for path, method, op in _operations(doc):
        url = _url(path, world)
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        query = [p for p in op.get("parameters", []) if p["in"] == "query"
                 and _resolve(doc, p.get("schema", {})).get("type") in ("integer", "boolean")
                 or p["in"] == "query" and any(s.get("type") in ("integer", "boolean")
                                               for s in p.get("schema", {}).get("anyOf", []))]
        body_schema = _body_schema(doc, op)
        if body_schema is not None and body_schema.get("properties"):
            bad = {name: _wrong_value(doc, prop) for name, prop in body_schema["properties"].items()}
            for language in ("zh", "en"):
                extra = {"HTTP_ACCEPT_LANGUAGE": "en"} if language == "en" else {}
                resp = getattr(client, method)(url, data=json.dumps(bad), content_type="application/json",
                                               **headers, **extra)
                assert 400 <= resp.status_code < 500, (method, path, resp.status_code)
                body = assert_error(resp, language)
                if resp.status_code == 422:
                    assert _fields(body) and _fields(body) <= set(bad) | {
                        f for f in _fields(body) if f.split(".")[0].split("[")[0] in bad}, (path, body)
                    assert _fields(body) & set(bad), (method, path, body)
            walked += 1
        elif query:
            name = query[0]["name"]
            for language in ("zh", "en"):
                extra = {"HTTP_ACCEPT_LANGUAGE": "en"} if language == "en" else {}
                resp = getattr(client, method)(url, {name: "not-a-value"}, **headers, **extra)
                assert resp.status_code == 422, (method, path, resp.status_code)
                assert name in _fields(assert_error(resp, language)), (method, path)
            walked += 1
        if not path.startswith(PUBLIC_PREFIXES) and op.get("security", True) != []:
            resp = getattr(client, method)(url, **({"data": "{}", "content_type": "application/json"}
                                                   if method in ("post", "put", "patch") else {}))
            if resp.status_code != 404:  # the public operations answer 404 for an unknown token
                assert resp.status_code == 401, (method, path, resp.status_code)
            assert_error(resp)
    assert walked >= 30


def test_a_method_a_path_does_not_take_answers_405_in_the_one_shape(net, client, doc, world):
    """Rule: 405 is JSON with the allowed methods, for every path (today ninja's plain text)."""
    token = net.token(net.admin)
    for path, item in doc["paths"].items():
        url = _url(path, world)
        unused = next(m for m in ("patch", "put", "delete", "post") if m not in item)
        resp = getattr(client, unused)(url, HTTP_AUTHORIZATION=f"Bearer {token}")
        assert resp.status_code == 405, (unused, path, resp.status_code)
        body = assert_error(resp)
        assert body["code"] == "method_not_allowed" and body["errors"][0]["field"] == "method"
        assert resp["Allow"]
    en = client.patch("/api/v1/orders", HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ACCEPT_LANGUAGE="en")
    assert_error(en, "en")


def test_an_unknown_api_path_answers_404_in_the_one_shape(net, client):
    """Rule: unknown paths under /api/ are JSON 404 (today Django's HTML page), in the asked language."""
    token = net.token(net.agent)
    zh = client.get("/api/v1/no-such-thing", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert zh.status_code == 404 and assert_error(zh)["code"] == "not_found"
    en = client.get("/api/v1/no-such-thing", HTTP_ACCEPT_LANGUAGE="en")
    assert en.status_code == 404 and assert_error(en, "en")["code"] == "not_found"
    # An id that is not a number is a 422 naming the path parameter.
    bad_id = client.get("/api/v1/orders/abc", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert bad_id.status_code == 422 and _fields(assert_error(bad_id)) == {"order_id"}
    # Outside /api/ the site keeps its HTML pages.
    assert not client.get("/no-such-page").get("Content-Type", "").startswith("application/json")


def test_malformed_json_answers_400_naming_the_location(net, client):
    """Rule: malformed JSON is a 400 naming the body and where it broke."""
    token = net.token(net.agent)
    resp = client.post("/api/v1/customers", data='{"name": "张三",\n "phones": [}', content_type="application/json",
                       HTTP_AUTHORIZATION=f"Bearer {token}")
    assert resp.status_code == 400
    body = assert_error(resp)
    assert body["code"] == "invalid_json" and body["errors"][0]["field"] == "body"
    assert "2" in body["errors"][0]["message"]  # line 2
    raw_nul = client.post("/api/v1/customers", data=b'{"name": "\x00"}', content_type="application/json",
                          HTTP_AUTHORIZATION=f"Bearer {token}")
    assert raw_nul.status_code == 400 and assert_error(raw_nul)["errors"][0]["field"] == "body"


def test_a_nul_character_in_json_is_refused_naming_its_field(net, client):
    """Rule: an escaped NUL (which PostgreSQL cannot store) is a 422 naming the field that holds it."""
    token = net.token(net.agent)
    resp = client.post("/api/v1/customers", data=json.dumps({"name": "张\u0000三", "phones": ["13812345678"]}),
                       content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert resp.status_code == 422
    assert _fields(assert_error(resp)) == {"name"}
    nested = client.post("/api/v1/orders", data=json.dumps({"order_type": "repair", "new_customer": {
        "name": "x", "phones": ["1381234\u00005678"]}}), content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}")
    assert nested.status_code == 422 and "new_customer.phones[0]" in _fields(assert_error(nested))
    query = client.get("/api/v1/customers", {"q": "a\x00b"}, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert query.status_code == 422 and _fields(assert_error(query)) == {"q"}


def test_a_body_over_the_upload_limit_answers_413_in_the_one_shape(net, client, settings):
    """Rule: oversize bodies are a JSON 413 (today Django's HTML 400), refused before they are read."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    token = net.token(net.agent)
    big = json.dumps({"name": "张" * 2000, "phones": ["13812345678"]})
    resp = client.post("/api/v1/customers", data=big, content_type="application/json",
                       HTTP_AUTHORIZATION=f"Bearer {token}")
    assert resp.status_code == 413
    body = assert_error(resp)
    assert body["code"] == "payload_too_large" and body["errors"][0]["field"] == "body"
    en = client.post("/api/v1/customers", data=big, content_type="application/json",
                     HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ACCEPT_LANGUAGE="en")
    assert en.status_code == 413 and assert_error(en, "en")


def test_a_server_error_answers_500_in_the_one_shape_without_a_traceback(net, api):
    """Rule: a 500 is JSON, in the caller's language, and tells nothing of the code."""
    customer, machine = shandong_farmer()
    _, order = create(api, net, repair_body(customer, machine))

    def broken(order, events):
        raise RuntimeError("secret internals")

    hooks.register_order_changed(broken)
    try:
        client = Client(raise_request_exception=False)
        resp = client.post(f"/api/v1/orders/{order['id']}/actions/forward",
                           data=json.dumps({"version": order["version"], "data": {}}),
                           content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {net.token(net.info_coordinator)}")
    finally:
        hooks._order_changed.remove(broken)
    assert resp.status_code == 500
    body = assert_error(resp)
    assert body["code"] == "server_error" and "secret internals" not in resp.content.decode()


def test_pydantic_errors_are_translated_not_leaked_in_english(net, client):
    """Rule: the Chinese API never shows pydantic's English ("Field required", "Input should be ...")."""
    token = net.token(net.agent)
    resp = client.post("/api/v1/orders", data=json.dumps({"customer_id": "x", "promised_at": "tomorrow"}),
                       content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    body = assert_error(resp)
    fields = {e["field"]: e["message"] for e in body["errors"]}
    assert fields["order_type"] == "这个字段是必填项。"
    assert "日期" in fields["promised_at"] and "整数" in fields["customer_id"]
    en = client.post("/api/v1/orders", data=json.dumps({"customer_id": "x", "promised_at": "tomorrow"}),
                     content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ACCEPT_LANGUAGE="en")
    en_fields = {e["field"]: e["message"] for e in assert_error(en, "en")["errors"]}
    assert en_fields["order_type"] == "This field is required."
    assert en_fields["promised_at"].startswith("Enter a date and time")
    not_found = client.get("/api/v1/customers/999999", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert not_found.status_code == 404 and assert_error(not_found)["message"] != "Customer not found."


def test_intake_errors_name_the_complaint_fields_as_sent(net, api):
    """Rule: field paths are the request's own: ``complaint.category``, not ``complaint_category``."""
    customer, _machine = shandong_farmer()
    status, body = create(api, net, {"order_type": "complaint", "customer_id": customer.pk, "symptom": "态度差",
                                     "complaint": {"category": "bogus", "severity": "medium"}})
    assert status == 422 and "complaint.category" in {e["field"] for e in body["errors"]}
    assert "complaint_category" not in {e["field"] for e in body["errors"]}


def _in_service(api, net, customer, machine):
    status, order = create(api, net, repair_body(customer, machine))
    assert status == 201, order
    oid = order["id"]
    Actor(api, net, net.info_coordinator).ok(oid, "forward", hotline_technician_id=net.hotline_tech.pk)
    hotline = Actor(api, net, net.hotline_tech)
    hotline.ok(oid, "callback")
    hotline.ok(oid, "confirm_mode", service_mode="on_site",
               reason="" if ServiceOrder.objects.get(pk=oid).proposed_mode == "on_site" else "客户要求")
    Actor(api, net, net.repair_coordinator).ok(oid, "dispatch", organization_id=net.agency_shandong.pk)
    tech = Actor(api, net, net.agency_tech)
    for action in ("accept", "tech_accept"):
        if action == "tech_accept":
            tech.ok(oid, "assign", technician_id=net.agency_tech.pk)
        tech.ok(oid, action)
    tech.ok(oid, "schedule", appointment_at=(timezone.now() + timedelta(hours=1)).isoformat())
    tech.ok(oid, "check_in")
    return oid, tech


def test_action_fields_are_named_under_data_by_schema_and_by_service_alike(net, api):
    """Rule: the same path in every action: ``data.<field>``, ``data.parts[2].quantity``, whether the
    schema or the service found the fault."""
    customer, machine = shandong_farmer()
    oid, tech = _in_service(api, net, customer, machine)
    before = state(oid)
    parts = [{"part_number": "A", "quantity": "1"}, {"part_number": "B", "quantity": "1"},
             {"part_number": "C", "quantity": "lots"}]
    status, body = tech(oid, "record_service", fault_found="喷油器堵塞", solution="清洗", parts=parts)
    assert status == 422 and {e["field"] for e in body["errors"]} == {"data.parts[2].quantity"}
    parts[2]["quantity"] = "-1"  # a number, refused by the service's rule
    status, body = tech(oid, "record_service", fault_found="喷油器堵塞", solution="清洗", parts=parts)
    assert status == 422 and {e["field"] for e in body["errors"]} == {"data.parts[2].quantity"}
    status, body = tech(oid, "record_service", solution="清洗")
    assert status == 422 and {e["field"] for e in body["errors"]} == {"data.fault_found"}
    assert state(oid) == before


def test_invalid_transition_names_action_and_lists_what_is_possible(net, api):
    """Rule: ``invalid_transition`` names the field ``action`` and lists the actions allowed now."""
    customer, machine = shandong_farmer()
    status, order = create(api, net, repair_body(customer, machine))
    code, body = Actor(api, net, net.info_coordinator)(order["id"], "forward", hotline_technician_id=net.hotline_tech.pk)
    assert code == 200
    code, body = Actor(api, net, net.info_coordinator)(order["id"], "forward", hotline_technician_id=net.hotline_tech.pk)
    assert code == 409 and body["code"] == "invalid_transition"
    assert [e["field"] for e in body["errors"]] == ["action"]
    assert "follow_up" in body["allowed_actions"] and "forward" not in body["allowed_actions"]
    assert "follow_up" in body["errors"][0]["message"]
    # The same answer when the body is also invalid: who may act and when outranks what was sent.
    code, body = api.post(f"/orders/{order['id']}/actions/forward", {"version": "x"},
                          token=net.token(net.info_coordinator))
    assert code == 409 and body["code"] == "invalid_transition"


def test_unknown_filter_values_and_page_sizes_are_422(net, api):
    """Rule: ``status=bogus`` and ``page_size=500`` are refused naming the parameter, never answered quietly."""
    token = net.token(net.agent)
    status, body = api.get("/orders", token=token, status="new,bogus")
    assert status == 422 and {e["field"] for e in body["errors"]} == {"status"}
    for name, value in (("order_type", "tractor"), ("level", "vip"), ("mode", "teleport")):
        status, body = api.get("/orders", token=token, **{name: value})
        assert status == 422 and {e["field"] for e in body["errors"]} == {name}
    for size in (500, 0):
        status, body = api.get("/orders", token=token, page_size=size)
        assert status == 422 and {e["field"] for e in body["errors"]} == {"page_size"}
    status, body = api.get("/customers", token=token, page_size=101)
    assert status == 422 and {e["field"] for e in body["errors"]} == {"page_size"}
    status, body = api.get("/orders", token=token, page_size=100, status="new,forwarded")
    assert status == 200


def test_duplicate_of_a_closed_order_does_not_call_it_still_being_handled(net, api):
    """Rule: the duplicate 409 for a closed order does not say 正在处理 (it is not)."""
    customer, machine = shandong_farmer()
    status, order = create(api, net, repair_body(customer, machine))
    Actor(api, net, net.agent).ok(order["id"], "cancel", reason="客户撤回")  # cancelled: not a duplicate any more
    status, second = create(api, net, repair_body(customer, machine))
    assert status == 201
    ServiceOrder.objects.filter(pk=second["id"]).update(status="closed", closed_at=timezone.now())
    status, body = create(api, net, repair_body(customer, machine))
    assert status == 409 and body["code"] == "duplicate_order"
    assert "正在处理" not in body["message"] and second["number"] in body["message"]
    assert {e["field"] for e in body["errors"]} == {"duplicate_reason"}
    ServiceOrder.objects.filter(pk=second["id"]).update(status="new", closed_at=None)
    status, body = create(api, net, repair_body(customer, machine))
    assert status == 409 and "正在处理" in body["message"]


def test_the_schema_is_built_once_per_language_and_answers_in_each(client):
    from django.utils import translation

    from aftersales.api.main import api

    with translation.override("en"):
        english = api.get_openapi_schema(path_prefix="/api/v1/")
        assert api.get_openapi_schema(path_prefix="/api/v1/") is english
    with translation.override("zh-hans"):
        assert api.get_openapi_schema(path_prefix="/api/v1/") is not english
    # What a client fetches is that same document, whichever request builds it first.
    first = client.get("/api/v1/openapi.json", HTTP_ACCEPT_LANGUAGE="en").json()
    assert client.get("/api/v1/openapi.json", HTTP_ACCEPT_LANGUAGE="en").json() == first
    assert first["paths"] and "/api/v1/orders/{order_id}/actions/dispatch" in first["paths"]
