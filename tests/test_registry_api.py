"""Customers and machines through the API: validation, the error format, search, and scoping."""

from datetime import date, timedelta

import pytest

from aftersales.registry.models import Customer, CustomerPhone, Machine
from tests.support import make_customer, make_machine, make_model

pytestmark = pytest.mark.django_db


def test_agent_registers_a_customer_with_phones_in_any_spelling(net, api):
    token = net.token(net.agent)
    status, body = api.post("/customers", {
        "name": "王建国", "phones": ["138 1234 5678", "0371-6688 1234"], "customer_class": "farmer",
        "province": "河南省", "city": "周口市", "county": "商水县", "township": "练集镇", "village": "王庄村",
    }, token=token)
    assert status == 201, body
    assert [p["number"] for p in body["phones"]] == ["+8613812345678", "+8637166881234"]
    assert body["phones"][0]["is_primary"] is True
    # found again by the last four digits, by the whole number in another spelling, and by name
    for params in ({"phone": "5678"}, {"phone": "+86 13812345678"}, {"q": "王建"}, {"q": "66881234"}):
        status, page = api.get("/customers", token=token, **params)
        assert status == 200
        assert [c["name"] for c in page["items"]] == ["王建国"], params


def test_invalid_customer_answers_every_field_error_and_saves_nothing(net, api):
    make_customer("李四", "13900001111")
    status, body = api.post("/customers", {
        "name": "", "phones": ["12345", "139 0000 1111"], "customer_class": "vip",
    }, token=net.token(net.agent))
    assert status == 422
    assert body["code"] == "validation_error"
    fields = {e["field"]: e["message"] for e in body["errors"]}
    assert set(fields) == {"name", "customer_class", "phones[0]", "phones[1]"}
    assert "#" in fields["phones[1]"]  # names the customer who owns the number
    assert Customer.objects.count() == 1 and CustomerPhone.objects.count() == 1


def test_schema_errors_use_the_same_format(net, api):
    status, body = api.post("/customers", {"phones": "not a list"}, token=net.token(net.agent))
    assert status == 422
    assert body["code"] == "validation_error"
    assert {e["field"] for e in body["errors"]} >= {"name", "phones"}


def test_unauthenticated_calls_get_401_in_the_error_format(db, api):
    status, body = api.get("/customers")
    assert status == 401
    assert body["code"] == "unauthorized" and body["message"]


def test_machine_registration_rejects_bad_input_and_changes_nothing(net, api):
    make_model()
    owner = make_customer("赵六", "13700002222")
    make_machine("LX904-0001", owner)
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    status, body = api.post("/machines", {
        "serial_number": "lx904-0001", "model_code": "NOPE", "owner_id": owner.pk, "invoice_date": tomorrow,
    }, token=net.token(net.agent))
    assert status == 422
    fields = {e["field"] for e in body["errors"]}
    assert fields == {"serial_number", "model_code", "invoice_date"}
    assert Machine.objects.count() == 1


def test_machine_round_trip_and_hours(net, api):
    make_model("4LZ-6", "谷王4LZ-6联合收割机", "combine_harvester", None)
    owner = make_customer("孙七", "13600003333")
    token = net.token(net.agent)
    status, body = api.post("/machines", {
        "serial_number": "4lz6-2026-0007", "model_code": "4LZ-6", "owner_id": owner.pk,
        "invoice_date": "2026-05-10", "delivery_date": "2026-05-12",
    }, token=token)
    assert status == 201, body
    assert body["serial_number"] == "4LZ6-2026-0007" and body["category"] == "combine_harvester"
    mid = body["id"]
    assert api.post(f"/machines/{mid}/hours", {"hours": "120.5", "read_on": "2026-06-01"}, token=token)[0] == 201
    status, body = api.post(f"/machines/{mid}/hours", {"hours": "100", "read_on": "2026-07-01"}, token=token)
    assert status == 422 and body["errors"][0]["field"] == "hours"
    status, page = api.get("/machines", token=token, serial="4LZ6")
    assert [m["id"] for m in page["items"]] == [mid]
    status, page = api.get("/customers", token=token, serial="4LZ6-2026")
    assert [c["id"] for c in page["items"]] == [owner.pk]


def test_agency_cannot_read_another_agencys_customers_or_machines(net, api):
    ours = make_customer("山东客户", "13511112222", registered_by=net.agency_shandong, province="山东省")
    theirs = make_customer("黑龙江客户", "13533334444", registered_by=net.agency_heilongjiang, province="黑龙江省")
    their_machine = make_machine("HL-0001", theirs, registered_by=net.agency_heilongjiang)
    token = net.token(net.agency_tech)
    assert api.get(f"/customers/{ours.pk}", token=token)[0] == 200
    status, body = api.get(f"/customers/{theirs.pk}", token=token)
    assert status == 404 and body["code"] == "not_found"
    assert api.get(f"/machines/{their_machine.pk}", token=token)[0] == 404
    status, page = api.get("/customers", token=token)
    assert [c["id"] for c in page["items"]] == [ours.pk]
    # a change to an invisible customer is a 404 too, and changes nothing
    status, _ = api.put(f"/customers/{theirs.pk}", {"name": "改名", "phones": ["13533334444"]}, token=token)
    assert status == 404
    theirs.refresh_from_db()
    assert theirs.name == "黑龙江客户"
    # the service center sees both
    status, page = api.get("/customers", token=net.token(net.agent))
    assert {c["id"] for c in page["items"]} == {ours.pk, theirs.pk}


def test_dealer_sees_the_machines_it_sold_and_their_owners(net, api):
    owner = make_customer("周口客户", "13211115555")
    sold = make_machine("DL-0001", owner, dealer=net.dealer_henan)
    other = make_machine("DL-0002", make_customer("别人", "13211116666"))
    token = net.token(net.dealer_clerk)
    assert api.get(f"/machines/{sold.pk}", token=token)[0] == 200
    assert api.get(f"/machines/{other.pk}", token=token)[0] == 404
    status, body = api.get(f"/customers/{owner.pk}", token=token)
    assert status == 200
    # the dealer did not record this customer: the number is masked (信息安全)
    assert body["phones"][0]["masked"] is True and body["phones"][0]["number"] == "132****5555"


def test_tokens_are_shown_once_and_can_be_revoked(net, api):
    session_token = net.token(net.agent)
    status, body = api.post("/tokens", {"name": "dispatch script"}, token=session_token)
    assert status == 201 and body["key"].startswith("as_")
    key = body["key"]
    assert api.get("/me", token=key)[1]["username"] == "agent"
    status, listed = api.get("/tokens", token=key)
    assert all("key" not in t for t in listed)
    assert api.delete(f"/tokens/{body['id']}", token=session_token)[0] == 204
    assert api.get("/me", token=key)[0] == 401


def test_openapi_document_lists_error_responses(db, client):
    doc = client.get("/api/v1/openapi.json").json()
    op = doc["paths"]["/api/v1/customers"]["post"]
    assert {"201", "404", "409", "422"} <= set(op["responses"])


def test_model_code_is_case_insensitive_and_overlong_values_are_errors_not_cuts(net, api):
    make_model()
    token = net.token(net.agent)
    status, body = api.post("/machines", {"serial_number": "x" * 41, "model_code": "lx904"}, token=token)
    assert status == 422 and {e["field"] for e in body["errors"]} == {"serial_number"}
    status, body = api.post("/machines", {"serial_number": "LX904-8", "model_code": "lx904", "engine_number": "e" * 41},
                            token=token)
    assert status == 422 and {e["field"] for e in body["errors"]} == {"engine_number"}
    status, body = api.post("/machines", {"serial_number": "lx904-7", "model_code": "lx904"}, token=token)
    assert status == 201 and body["model_code"] == "LX904"
    status, body = api.post("/customers", {"name": "张" * 101, "phones": ["13812340000"]}, token=token)
    assert status == 422 and {e["field"] for e in body["errors"]} == {"name"}
    status, body = api.post("/customers", {"name": "张三", "phones": ["13812340000"], "address": "路" * 201,
                                           "village": "村" * 31}, token=token)
    assert status == 422 and {e["field"] for e in body["errors"]} == {"address", "village"}
    assert Customer.objects.count() == 0
