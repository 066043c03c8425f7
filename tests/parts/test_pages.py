"""The parts pages through the web client: the van on the phone, the desk's forms, the claim reviewer
and the settlement (print page and Excel). Forms call the same services as the API."""

import io
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from aftersales.parts import claims, services
from aftersales.parts.models import Claim, ClaimStatus, Requisition, StockBalance
from tests.parts.helpers import catalogue, rates, stocked, van
from tests.service.test_flows import _checked_in
from tests.service.helpers import last_code, shandong_farmer

pytestmark = pytest.mark.django_db


def _login(client, user):
    client.force_login(user)
    return client


def test_the_van_page_shows_stock_and_the_desk_approves_and_ships_through_forms(net, client):
    parts = catalogue()
    cw = stocked(net, parts, qty=5)
    my_van = van(net.agency_tech)
    services.stock_transfer(actor=net.repair_coordinator, from_warehouse_id=cw.pk, to_warehouse_id=my_van.pk,
                            part_id=parts["filter"].pk, quantity=2)
    _login(client, net.agency_tech)
    page = client.get("/parts/van/").content.decode()
    assert 'data-stock="1000428205"' in page and "燃油滤清器" in page
    resp = client.post("/parts/act/request", {"part_id": [parts["pump"].pk], "quantity": ["1"], "next": "/parts/van/"},
                       follow=True)
    assert resp.redirect_chain[-1][0] == "/parts/van/"
    req = Requisition.objects.get()
    # another agency's technician sees nothing of it; a technician cannot reach the desk
    _login(client, net.other_agency_tech)
    assert req.number not in client.get("/parts/van/").content.decode()
    assert client.get("/parts/desk/").status_code == 403

    _login(client, net.repair_coordinator)
    desk = client.get("/parts/desk/").content.decode()
    assert req.number in desk
    line = req.lines.get()
    client.post("/parts/act/approve", {"id": req.pk, "version": req.version, f"approved_{line.pk}": "1",
                                       "next": "/parts/desk/"})
    req.refresh_from_db()
    assert req.status == "approved"
    resp = client.post("/parts/act/ship", {"id": req.pk, "version": req.version, "tracking_number": "",
                                           "next": "/parts/desk/"}, follow=True)
    assert "快递单号" in resp.content.decode()  # the refusal names the field in Chinese
    client.post("/parts/act/ship", {"id": req.pk, "version": req.version, "tracking_number": "SF1",
                                    "next": "/parts/desk/"})
    req.refresh_from_db()
    assert req.status == "shipped"
    _login(client, net.agency_tech)
    page = client.get("/parts/van/").content.decode()
    assert f'data-receive="{req.number}"' in page
    client.post("/parts/act/receive", {"id": req.pk, "version": req.version, "next": "/parts/van/"})
    assert StockBalance.objects.get(warehouse=my_van, part=parts["pump"]).quantity == 1


def test_claim_review_and_settlement_pages_with_excel(net, api, client):
    parts = catalogue()
    stocked(net, parts)
    rates(net)
    customer, machine = shandong_farmer()
    oid, tech = _checked_in(api, net, customer, machine)
    tech.ok(oid, "record_service", fault_found="喷油泵故障", solution="修复", labour_hours="1", component="fuel_injection_pump")
    tech.ok(oid, "check_out")
    tech.ok(oid, "confirm", code=last_code(oid))
    claim = Claim.objects.get(order_id=oid)
    _login(client, net.agency_tech)
    page = client.get(f"/parts/claims/{claim.pk}/").content.decode()
    assert 'data-flag="no_meter_photo"' in page  # neither a reading nor a photo of the hour-meter
    client.post("/parts/act/submit_claim", {"id": claim.pk, "version": claim.version, "claimed_km": "",
                                            "next": f"/parts/claims/{claim.pk}/"})
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.SUBMITTED
    _login(client, net.other_agency_tech)
    assert client.get(f"/parts/claims/{claim.pk}/").status_code == 404

    _login(client, net.supervisor)
    assert claim.number in client.get("/parts/claims/?flagged=1").content.decode()
    resp = client.post("/parts/act/approve_claim", {"id": claim.pk, "version": claim.version, "reason": "",
                                                    "next": f"/parts/claims/{claim.pk}/"}, follow=True)
    assert "请说明批准理由" in resp.content.decode()
    client.post("/parts/act/approve_claim", {"id": claim.pk, "version": claim.version, "reason": "电话核实读数",
                                             "next": f"/parts/claims/{claim.pk}/"})
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.APPROVED and claim.approved_total == claim.total
    client.post("/parts/act/settle", {"organization_id": net.agency_shandong.pk,
                                      "month": timezone.localdate().strftime("%Y-%m"), "next": "/parts/settlements/"})
    s = claim.__class__.objects.get(pk=claim.pk).settlement
    assert s is not None and s.total == claim.approved_total
    page = client.get(f"/parts/settlements/{s.pk}/").content.decode()
    assert claim.number in page and "data-print" in page
    resp = client.get(f"/parts/settlements/{s.pk}/?export=xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(resp.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][0] == claim.number and Decimal(str(rows[1][7])) == claim.approved_total
    _login(client, net.agency_tech)
    client.post("/parts/act/confirm_settlement", {"id": s.pk, "next": f"/parts/settlements/{s.pk}/"})
    s.refresh_from_db()
    assert s.status == "confirmed"
    with pytest.raises(Exception) as exc:
        claims.claim_review(actor=net.supervisor, claim_id=claim.pk, version=claim.version + 0, decision="reject",
                            reason="x")
    assert getattr(exc.value, "code", "") == "claim_locked"


def test_the_van_page_writes_nothing_and_the_technician_opens_his_van(net, client, api):
    from aftersales.parts.models import Warehouse

    _login(client, net.agency_tech)
    page = client.get("/parts/van/").content.decode()
    assert not Warehouse.objects.filter(technician=net.agency_tech).exists()  # a GET made nothing
    assert "data-open-van" in page
    client.post("/parts/act/open_van", {"next": "/parts/van/"})
    client.post("/parts/act/open_van", {"next": "/parts/van/"})  # a double tap: still one van
    my_van = Warehouse.objects.get(technician=net.agency_tech)
    assert my_van.organization_id == net.agency_tech.organization_id and my_van.kind == "van"
    assert "data-open-van" not in client.get("/parts/van/").content.decode()
    status, body = api.post("/my-van/open", {}, token=net.token(net.agency_tech))
    assert status == 200 and body["id"] == my_van.pk
    # Someone without a van of his own (the hotline's agent) cannot open one.
    assert api.post("/my-van/open", {}, token=net.token(net.agent))[0] == 403


def test_a_refused_form_comes_back_with_the_errors_beside_the_fields_and_what_was_typed(net, client):
    parts = catalogue()
    stocked(net, parts, qty=5)
    van(net.agency_tech)
    _login(client, net.agency_tech)
    resp = client.post("/parts/act/request", {"part_id": [parts["pump"].pk], "quantity": ["0"], "note": "喷油泵漏油急用",
                                              "next": "/parts/van/"})
    assert resp.status_code == 422
    html = resp.content.decode()
    assert 'data-field-error="quantity"' in html and 'value="喷油泵漏油急用"' in html and 'value="0"' in html
    assert f'<option value="{parts["pump"].pk}" selected>' in html
    assert not Requisition.objects.exists()
    # The page's other forms still come back to the van page.
    assert 'name="next" value="/parts/van/"' in html

    _login(client, net.repair_coordinator)
    resp = client.post("/parts/act/receipt", {"warehouse_id": Requisition._meta.apps.get_model("parts", "Warehouse")
                                              .objects.get(code="CW").pk, "part_id": parts["filter"].pk,
                                              "quantity": "abc", "unit_cost": "12.50", "next": "/parts/desk/"})
    html = resp.content.decode()
    assert resp.status_code == 422 and 'data-field-error="quantity"' in html and 'value="12.50"' in html


def test_a_shipped_requisition_shows_in_transit_until_it_is_received(net, client, api):
    parts = catalogue()
    cw = stocked(net, parts, qty=5)
    my_van = van(net.agency_tech)
    req = services.requisition_create(actor=net.agency_tech, lines=[services.LineInput(part_id=parts["pump"].pk, quantity=2)])
    req = services.requisition_approve(actor=net.repair_coordinator, requisition_id=req.pk, version=req.version)
    req = services.requisition_ship(actor=net.repair_coordinator, requisition_id=req.pk, version=req.version,
                                    tracking_number="SF123")
    # A transfer made in one step (out and in together) is never in transit.
    services.stock_transfer(actor=net.repair_coordinator, from_warehouse_id=cw.pk, to_warehouse_id=my_van.pk,
                            part_id=parts["filter"].pk, quantity=1)
    t_tech = net.token(net.agency_tech)
    status, rows = api.get("/in-transit", token=t_tech)
    assert status == 200 and rows == [{"to_warehouse_id": my_van.pk, "from_warehouse_id": cw.pk,
                                       "part_id": parts["pump"].pk, "part_number": "4110001", "quantity": "2.00"}]
    assert api.get("/in-transit", token=net.token(net.other_agency_tech))[1] == []
    assert api.get("/in-transit", token=net.token(net.repair_coordinator), warehouse_id=cw.pk)[1][0]["quantity"] == "2.00"
    status, body = api.get(f"/requisitions/{req.pk}", token=t_tech)
    assert body["lines"][0]["in_transit"] == "2.00"
    _login(client, net.agency_tech)
    page = client.get("/parts/van/").content.decode()
    assert 'data-transit="4110001">2 ' in page and 'data-in-transit="4110001"' in page
    assert StockBalance.objects.get(warehouse=cw, part=parts["pump"]).quantity == 3  # left the centre
    services.requisition_receive(actor=net.agency_tech, requisition_id=req.pk, version=req.version)
    assert api.get("/in-transit", token=t_tech)[1] == []
    assert api.get(f"/requisitions/{req.pk}", token=t_tech)[1]["lines"][0]["in_transit"] == "0"
    assert 'data-transit="4110001"' not in client.get("/parts/van/").content.decode()
