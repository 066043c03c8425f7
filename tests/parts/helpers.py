"""Builders for the parts tests: a catalogue, the centre's warehouse, the agency's, vans."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from aftersales.parts.models import ClaimRate, GeoPoint, Part, PartPrice, StandardHours, Warehouse, WarehouseKind
from aftersales.parts.services import stock_receive, van_ensure


def catalogue() -> dict[str, Part]:
    filt = Part.objects.create(number="1000428205", name_zh="燃油滤清器", name_en="Fuel filter", component="filter_element",
                               standard_cost=Decimal("35.00"))
    pump = Part.objects.create(number="4110001", name_zh="喷油泵", name_en="Injection pump", component="fuel_injection_pump",
                               standard_cost=Decimal("1200.00"), return_required=True)
    gearbox = Part.objects.create(number="GB-904", name_zh="变速箱总成", name_en="Gearbox assembly", component="gearbox",
                                  standard_cost=Decimal("9800.00"), serial_tracked=True, return_required=True)
    for part, customer, partner in ((filt, "48.00", "38.00"), (pump, "1680.00", "1350.00"), (gearbox, "13800", "11000")):
        PartPrice.objects.create(part=part, audience="customer", price=Decimal(customer), valid_from=date(2020, 1, 1))
        PartPrice.objects.create(part=part, audience="partner", level="authorized_agency", price=Decimal(partner),
                                 valid_from=date(2020, 1, 1))
    PartPrice.objects.create(part=pump, audience="partner", level="authorized_agency", price=Decimal("999.00"),
                             valid_from=date(2010, 1, 1), valid_until=date(2019, 12, 31))
    return {"filter": filt, "pump": pump, "gearbox": gearbox}


def centre(net) -> Warehouse:
    return Warehouse.objects.create(code="CW", name="中心库", kind=WarehouseKind.CENTRE, organization=net.service_center)


def agency_store(net) -> Warehouse:
    return Warehouse.objects.create(code="AG-SD", name="潍坊站库", kind=WarehouseKind.AGENCY,
                                    organization=net.agency_shandong)


def stocked(net, parts, qty=5):
    cw = centre(net)
    for p in parts.values():
        if p.serial_tracked:
            for i in range(2):
                stock_receive(actor=net.repair_coordinator, warehouse_id=cw.pk, part_id=p.pk, quantity=1,
                              serial=f"GBX-{i}", unit_cost=p.standard_cost)
        else:
            stock_receive(actor=net.repair_coordinator, warehouse_id=cw.pk, part_id=p.pk, quantity=qty,
                          unit_cost=p.standard_cost)
    return cw


def rates(net):
    ClaimRate.objects.create(province="", labour_per_hour=Decimal("60.00"), travel_per_km=Decimal("1.50"),
                             filing_days=30, valid_from=date(2020, 1, 1))
    StandardHours.objects.create(component="fuel_injection_pump", action="replaced", hours=Decimal("2.5"))
    StandardHours.objects.create(component="filter_element", action="replaced", hours=Decimal("0.5"))
    GeoPoint.objects.create(organization=net.agency_shandong, lat=Decimal("36.706900"), lon=Decimal("119.161800"))


def van(user):
    return van_ensure(technician=user)
