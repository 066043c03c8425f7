"""The warranty engine behind the API and the stored, versioned policy."""

import json
from datetime import date

import pytest

from aftersales.warranty import services
from aftersales.warranty.models import WarrantyPolicy
from aftersales.warranty.parts import known_part, part_label
from aftersales.warranty.policy import default_regime
from tests.support import make_customer, make_machine, make_model

pytestmark = pytest.mark.django_db


def test_every_component_code_of_the_regime_has_a_name():
    regime = default_regime()
    codes = {c for clause in (regime.main_parts, regime.wear_parts) for parts in clause.by_category.values() for c in parts}
    assert codes and all(known_part(c) for c in codes), sorted(c for c in codes if not known_part(c))
    assert part_label("gearbox") == "变速箱" and part_label("gearbox", "en") == "Gearbox"


def test_stored_machine_evaluated_with_policy_version_and_reasons(net, api):
    machine = make_machine("LX904-0100", make_customer("钱八", "13800001111"), invoice=date(2026, 3, 1))
    status, body = api.post("/warranty/evaluate", {"machine_id": machine.pk, "on": "2027-03-01", "components": ["gearbox"]},
                            token=net.token(net.agent))
    assert status == 200, body
    assert body["coverage"]["whole_machine"]["state"] == "covered"
    assert body["coverage"]["whole_machine"]["end"] == "2027-03-01"
    assert body["coverage"]["components"]["gearbox"]["end"] == "2028-03-01"  # main part: 24 months
    assert body["service_mode"] == "on_site"
    assert body["policy"]["name"] == "CN-2010+company" and body["policy"]["version"] == 1
    assert all(r["rule"] and r["text_zh"] and r["text_en"] for r in body["reasons"])
    # the day after the last covered day: expired, paid service
    status, body = api.post("/warranty/evaluate", {"machine_id": machine.pk, "on": "2027-03-02"}, token=net.token(net.agent))
    assert body["coverage"]["whole_machine"]["state"] == "expired" and body["service_mode"] == "paid"


def test_inline_facts_small_tractor_and_exclusion(net, api):
    status, body = api.post("/warranty/evaluate", {
        "machine": {"category": "tractor", "rated_power_kw": "12", "invoice_date": "2026-08-31"},
        "on": "2027-05-31", "fault": {"exclusions": ["misuse"]},
    }, token=net.token(net.agent))
    assert status == 200, body
    assert body["coverage"]["whole_machine"]["end"] == "2027-05-31"  # 9 months for <= 18 kW
    assert body["coverage"]["whole_machine"]["state"] == "excluded"
    assert body["service_mode"] == "paid"
    assert "CN2010-Exclusions" in {r["rule"] for r in body["reasons"]}


@pytest.mark.parametrize("payload, field", [
    ({}, "machine_id"),
    ({"machine_id": 1, "machine": {"category": "tractor"}}, "machine_id"),
    ({"machine": {"category": "spaceship"}}, "machine.category"),
    ({"machine": {"category": "tractor"}, "fault": {"exclusions": ["bad_luck"]}}, "fault.exclusions[0]"),
    ({"machine": {"category": "diesel_engine_single", "host_category": "ufo"}}, "machine.host_category"),
])
def test_bad_evaluation_requests_name_the_field(net, api, payload, field):
    status, body = api.post("/warranty/evaluate", payload, token=net.token(net.agent))
    assert status == 422, body
    assert body["code"] == "validation_error"
    assert field in {e["field"] for e in body["errors"]}


def test_another_agencys_machine_is_not_evaluated(net, api):
    theirs = make_machine("HL-9", make_customer("外省", "13900009999", registered_by=net.agency_heilongjiang),
                          registered_by=net.agency_heilongjiang)
    status, body = api.post("/warranty/evaluate", {"machine_id": theirs.pk}, token=net.token(net.agency_tech))
    assert status == 404 and body["code"] == "not_found"


def test_a_changed_policy_is_a_new_version_and_evaluations_name_it(net, api):
    base = services.policy_ensure_default()
    data = json.loads(json.dumps(base.data))
    data["clauses"]["periods"]["by_class"]["tractor_large"]["whole_machine_months"] = 18
    new = services.policy_create_version(base=base, data=data, effective_from=date(2026, 1, 1), note="延保承诺", user=net.admin)
    assert new.version == 2
    base.refresh_from_db()
    assert base.data["clauses"]["periods"]["by_class"]["tractor_large"]["whole_machine_months"] == 12
    machine = make_machine("LX904-0200", make_customer("吴九", "13800002222"), invoice=date(2026, 3, 1))
    body = services.evaluate_machine(machine=machine, on=date(2027, 6, 1))
    assert body["policy"]["version"] == 2
    assert body["coverage"]["whole_machine"]["state"] == "covered" and body["coverage"]["whole_machine"]["end"] == "2027-09-01"
    # an evaluation dated before the new version's effective date still uses version 1
    assert services.evaluate_machine(machine=machine, on=date(2025, 12, 31))["policy"]["version"] == 1


def test_invalid_policy_data_is_refused_and_nothing_saved(net):
    base = services.policy_ensure_default()
    data = json.loads(json.dumps(base.data))
    data["clauses"]["repair_deadline"]["workng_days"] = 30
    from aftersales.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as exc:
        services.policy_create_version(base=base, data=data, effective_from=date(2026, 1, 1))
    assert "workng_days" in str(exc.value)
    assert WarrantyPolicy.objects.count() == 1


def test_admin_edit_saves_a_new_version(net, client):
    base = services.policy_ensure_default()
    client.force_login(net.admin)
    data = json.loads(json.dumps(base.data))
    data["clauses"]["periods"]["by_class"]["combine_harvester"]["whole_machine_months"] = 24
    resp = client.post(f"/admin/warranty/warrantypolicy/{base.pk}/change/", {
        "effective_from": "2026-12-01", "is_active": "on", "note": "收割机整机延保至24个月", "data": json.dumps(data),
    })
    assert resp.status_code == 302, resp.content.decode()[:2000]
    versions = list(WarrantyPolicy.objects.order_by("version").values_list("version", "effective_from"))
    assert versions == [(1, date(2010, 6, 1)), (2, date(2026, 12, 1))]
    base.refresh_from_db()
    assert base.data["clauses"]["periods"]["by_class"]["combine_harvester"]["whole_machine_months"] == 12
