"""The path of the issue through the API: the agency asks for a pump for an order (the order waits for
parts, its clock paused), the centre approves less than asked and ships, the technician receives it
into the van (the clock runs again), uses it in the service record (issued from the van; the wear
filter goes on the customer's bill), the old pump goes back and is inspected, the completed order's
claim is filed, checked, reviewed, settled at month end, confirmed, paid and locked."""

from decimal import Decimal

import pytest
from django.utils import timezone

from aftersales.parts.models import Claim, MoveKind, OldPart, StockBalance, StockMove
from aftersales.service.models import OrderEvent, PartUsage
from aftersales.sla.models import SlaClock
from tests.parts.helpers import catalogue, rates, stocked, van
from tests.service.helpers import last_code, png_bytes, upload
from tests.service.test_flows import _checked_in
from tests.service.helpers import shandong_farmer

pytestmark = pytest.mark.django_db


def test_requisition_shipment_consumption_return_claim_settlement(net, api):
    parts = catalogue()
    cw = stocked(net, parts, qty=5)
    rates(net)
    my_van = van(net.agency_tech)
    customer, machine = shandong_farmer()
    from aftersales.parts.models import GeoPoint
    GeoPoint.objects.create(customer=customer, lat=Decimal("36.880000"), lon=Decimal("118.750000"))
    oid, tech = _checked_in(api, net, customer, machine)
    t_tech, t_desk = net.token(net.agency_tech), net.token(net.repair_coordinator)

    # 1. the technician asks for 2 pumps and a filter for the order
    status, req = api.post("/requisitions", {"order_id": oid, "note": "喷油泵损坏", "lines": [
        {"part_id": parts["pump"].pk, "quantity": "2"}, {"part_id": parts["filter"].pk, "quantity": "1"}]}, token=t_tech)
    assert status == 201, req
    assert req["to_warehouse_id"] == my_van.pk and req["status"] == "requested" and req["clock_paused"] is True
    assert OrderEvent.objects.filter(order_id=oid, action="pause_clock").get().data == {"reason": "waiting_parts"}
    from django.test import Client
    page = Client()
    page.force_login(net.agency_tech)
    assert "data-waiting-parts" in page.get(f"/orders/{oid}/").content.decode()  # the order shows 待件
    # bad input: zero quantity, a part that does not exist
    assert api.post("/requisitions", {"lines": [{"part_id": parts["pump"].pk, "quantity": "0"}]}, token=t_tech)[0] == 422
    status, body = api.post("/requisitions", {"lines": [{"part_id": 999999, "quantity": "1"}]}, token=t_tech)
    assert status == 422 and body["errors"][0]["field"] == "lines[0].part_id"
    # another agency does not see it; nor may the technician approve it
    assert api.get(f"/requisitions/{req['id']}", token=net.token(net.other_agency_tech))[0] == 404
    pump_line, filter_line = req["lines"]
    assert api.post(f"/requisitions/{req['id']}/actions/approve", {"version": req["version"]}, token=t_tech)[0] == 403

    # 2. the centre approves one pump (not two) and ships it
    status, req = api.post(f"/requisitions/{req['id']}/actions/approve", {
        "version": req["version"], "approved": {str(pump_line["id"]): "1"}, "note": "库存紧张"}, token=t_desk)
    assert status == 200, req
    assert [ln["approved"] for ln in req["lines"]] == ["1.00", "1.00"]
    status, body = api.post(f"/requisitions/{req['id']}/actions/ship", {"version": req["version"], "tracking_number": ""},
                            token=t_desk)
    assert status == 422 and body["errors"][0]["field"] == "tracking_number"
    status, req = api.post(f"/requisitions/{req['id']}/actions/ship",
                           {"version": req["version"], "tracking_number": "SF100200300"}, token=t_desk)
    assert status == 200 and req["status"] == "shipped"
    assert StockBalance.objects.get(warehouse=cw, part=parts["pump"]).quantity == 4

    # 3. the technician confirms receipt: the van holds them, the clock runs again
    status, req = api.post(f"/requisitions/{req['id']}/actions/receive", {"version": req["version"]}, token=t_tech)
    assert status == 200 and req["status"] == "received" and req["clock_paused"] is False
    assert OrderEvent.objects.filter(order_id=oid, action="resume_clock").exists()
    status, stock = api.get("/my-van", token=t_tech)
    assert {(s["part_number"], s["quantity"]) for s in stock} == {("4110001", "1.00"), ("1000428205", "1.00")}

    # 4. the service record uses the pump (maker pays) and the filter (a wear part: the customer pays)
    _, photo = upload(api, net, net.agency_tech, oid, png_bytes(), name="表.png")
    tech.ok(oid, "record_service", fault_found="喷油泵柱塞磨损", solution="更换喷油泵", labour_hours="3",
            hours_meter="420.0", photo_ids=[photo["id"]], component="fuel_injection_pump", parts=[
                {"part_number": "4110001", "quantity": 1, "component": "fuel_injection_pump", "action": "replaced"},
                {"part_number": "1000428205", "quantity": 1, "component": "filter_element", "action": "replaced"}])
    assert StockBalance.objects.get(warehouse=my_van, part=parts["pump"]).quantity == 0
    issues = StockMove.objects.filter(order_id=oid, kind=MoveKind.ISSUE)
    assert sorted(issues.values_list("quantity", flat=True)) == [Decimal(-1), Decimal(-1)]
    lines = {u.part_number: u for u in PartUsage.objects.filter(record__order_id=oid)}
    assert lines["4110001"].warranty is True
    assert lines["1000428205"].warranty is False and lines["1000428205"].unit_price == Decimal("48.00")
    # writing the record again returns the first issue before issuing again: no double issue
    tech.ok(oid, "record_service", fault_found="喷油泵柱塞磨损", solution="更换喷油泵", labour_hours="3",
            hours_meter="420.0", photo_ids=[photo["id"]], component="fuel_injection_pump", parts=[
                {"part_number": "4110001", "quantity": 1, "component": "fuel_injection_pump", "action": "replaced"}])
    assert StockBalance.objects.get(warehouse=my_van, part=parts["filter"]).quantity == 1
    assert StockBalance.objects.get(warehouse=my_van, part=parts["pump"]).quantity == 0
    # a second pump is not on the van: the record is refused and nothing changes
    status, body = tech(oid, "record_service", fault_found="x", solution="y", parts=[
        {"part_number": "4110001", "quantity": 2, "component": "fuel_injection_pump", "action": "replaced"}])
    assert status == 409 and body["code"] == "insufficient_stock"
    old = OldPart.objects.get(order_id=oid)
    assert old.part == parts["pump"] and old.status == "awaiting"

    # 5. check out, the customer confirms: the claim draft is there for the agency
    tech.ok(oid, "check_out")
    tech.ok(oid, "confirm", code=last_code(oid))
    claim = Claim.objects.get(order_id=oid)
    assert claim.organization == net.agency_shandong and claim.status == "draft"
    assert claim.parts_amount == Decimal("1350.00")  # the partner price in force, not the expired one
    assert claim.labour_amount == Decimal("150.00")  # 2.5 standard hours × 60
    assert claim.computed_km is not None and claim.travel_amount == (claim.computed_km * Decimal("1.50")).quantize(Decimal("0.01"))
    assert "part_outstanding" in claim.flags and "no_meter_photo" not in claim.flags
    assert api.get(f"/claims/{claim.pk}", token=net.token(net.other_agency_tech))[0] == 404

    # 6. the old pump goes back in a batch and is inspected
    status, batch = api.post("/old-parts/batches", {"old_part_ids": [old.pk], "tracking_number": "YT888"}, token=t_tech)
    assert status == 201, batch
    t_eng = net.token(net.engineer)
    assert api.post(f"/old-parts/{old.pk}/inspect", {"verdict": "confirmed_fault"}, token=t_eng)[0] == 409
    assert api.post(f"/old-parts/batches/{batch['id']}/receive", {}, token=t_eng)[0] == 200
    status, body = api.post(f"/old-parts/{old.pk}/inspect", {"verdict": "confirmed_fault"}, token=t_eng)
    assert status == 200 and body["verdict"] == "confirmed_fault"

    # 7. the agency files the claim claiming three times the distance: the check flags it
    status, c = api.post(f"/claims/{claim.pk}/actions/submit",
                         {"version": claim.version, "claimed_km": str(claim.computed_km * 3)}, token=t_tech)
    assert status == 200 and c["status"] == "submitted"
    assert "distance_above_computed" in c["flags"] and "part_outstanding" not in c["flags"]
    t_sup = net.token(net.supervisor)
    status, body = api.post(f"/claims/{claim.pk}/actions/approve", {"version": c["version"]}, token=t_sup)
    assert status == 422 and body["errors"][0]["field"] == "reason"
    travel = next(ln for ln in c["lines"] if ln["kind"] == "travel")
    status, c = api.post(f"/claims/{claim.pk}/actions/adjust", {
        "version": c["version"], "reason": "里程按系统测算", "amounts": {str(travel["id"]): str(claim.travel_amount)}},
        token=t_sup)
    assert status == 200 and c["status"] == "adjusted"
    assert Decimal(c["approved_total"]) == claim.parts_amount + claim.labour_amount + claim.travel_amount

    # 8. month end: the settlement, confirmed by the agency line by line, paid; the claim is locked
    assert api.post("/settlements", {"organization_id": net.agency_shandong.pk, "month": str(timezone.localdate())},
                    token=t_tech)[0] == 403
    status, s = api.post("/settlements", {"organization_id": net.agency_shandong.pk,
                                          "month": str(timezone.localdate())}, token=t_sup)
    assert status == 201 and s["total"] == c["approved_total"] and [x["id"] for x in s["claims"]] == [claim.pk]
    assert api.get(f"/settlements/{s['id']}", token=net.token(net.other_agency_tech))[0] == 404
    assert api.post(f"/settlements/{s['id']}/actions/pay", {"payment_reference": "P1"}, token=t_sup)[0] == 409
    status, s = api.post(f"/settlements/{s['id']}/actions/confirm", {}, token=t_tech)
    assert status == 200 and s["status"] == "confirmed"
    status, s = api.post(f"/settlements/{s['id']}/actions/pay", {"payment_reference": "BANK-2026-11"}, token=t_sup)
    assert status == 200 and s["status"] == "paid" and s["claims"][0]["status"] == "paid"
    status, body = api.post(f"/claims/{claim.pk}/actions/reject", {"version": s["claims"][0]["version"], "reason": "x"},
                            token=t_sup)
    assert status == 409 and body["code"] == "claim_locked"

    # the measures the statistics centre shows
    status, m = api.get("/stats/parts-measures", token=t_sup)
    assert status == 200 and m["claims_per_partner"][0]["organization"] == net.agency_shandong.name
    assert m["warranty_cost"][0]["component"] == "fuel_injection_pump"
    assert m["old_part_verdicts"] == [{"component": "fuel_injection_pump", "verdict": "confirmed_fault", "count": 1}]
    assert api.get("/stats/parts-measures", token=net.token(net.other_agency_tech))[1]["claims_per_partner"] == []
    from django.core.management import call_command
    call_command("parts", "check-ledger")
    assert SlaClock.objects.filter(order_id=oid).exists()
