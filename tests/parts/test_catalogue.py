"""The centre's parts desk keeps the catalogue, the prices and the claim rates in the web: a new part,
a correction, a new price that ends the old one the day before (a claim of last month keeps its price),
the rates of a province; bad input comes back on the page with the field named; a partner cannot."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from aftersales.parts import claims, selectors
from aftersales.parts.models import ClaimRate, Part, PartPrice
from tests.parts.helpers import catalogue

pytestmark = pytest.mark.django_db


def test_the_parts_desk_keeps_the_catalogue_prices_and_rates(net, client):
    client.force_login(net.repair_coordinator)
    assert client.get("/parts/catalogue/").status_code == 200
    resp = client.post("/parts/act/part_save", {"number": "LX-RAD-01", "name_zh": "散热器总成", "name_en": "Radiator",
                                                "unit": "件", "component": "whole_machine", "standard_cost": "820",
                                                "return_required": "on", "is_active": "on", "next": "/parts/catalogue/"})
    assert resp.status_code == 302
    part = Part.objects.get(number="LX-RAD-01")
    assert part.return_required and not part.wear_part and part.standard_cost == Decimal("820.00")
    # Corrected: the same part, not a second one.
    client.post("/parts/act/part_save", {"id": part.pk, "number": "LX-RAD-01", "name_zh": "散热器总成（铝）",
                                         "component": "whole_machine", "standard_cost": "860", "is_active": "on",
                                         "next": "/parts/catalogue/"})
    part.refresh_from_db()
    assert part.name_zh == "散热器总成（铝）" and Part.objects.count() == 1 and not part.return_required
    # A number taken and an unknown component: the page again, what was typed kept, the fields named.
    catalogue()
    resp = client.post("/parts/act/part_save", {"number": "4110001", "name_zh": "喷油泵（重复）", "component": "whole_machine",
                                                "next": "/parts/catalogue/"})
    html = resp.content.decode()
    assert resp.status_code == 409 and 'data-field-error="number"' in html and 'value="喷油泵（重复）"' in html
    resp = client.post("/parts/act/part_save", {"number": "X-1", "name_zh": "某件", "component": "gear_box",
                                                "next": "/parts/catalogue/"})
    assert resp.status_code == 422 and 'data-field-error="component"' in resp.content.decode()

    today = timezone.localdate()
    old_from = today - timedelta(days=60)
    client.post("/parts/act/price_set", {"part_id": part.pk, "audience": "partner", "level": "authorized_agency",
                                         "price": "900", "valid_from": old_from.isoformat(), "next": "/parts/catalogue/"})
    client.post("/parts/act/price_set", {"part_id": part.pk, "audience": "partner", "level": "authorized_agency",
                                         "price": "950", "valid_from": today.isoformat(), "next": "/parts/catalogue/"})
    first, second = PartPrice.objects.filter(part=part).order_by("valid_from")
    assert first.valid_until == today - timedelta(days=1) and second.valid_until is None
    assert selectors.price_for(part, "partner", "authorized_agency", on=today - timedelta(days=5)) == Decimal("900.00")
    assert selectors.price_for(part, "partner", "authorized_agency") == Decimal("950.00")
    assert 'data-price="partner:authorized_agency"' in client.get("/parts/catalogue/").content.decode()
    resp = client.post("/parts/act/price_set", {"part_id": part.pk, "audience": "partner", "level": "farmer",
                                                "price": "-1", "valid_from": "2026-13-01", "next": "/parts/catalogue/"})
    assert resp.status_code == 422 and 'data-field-error="level"' in resp.content.decode()

    client.post("/parts/act/rate_set", {"province": "山东省", "labour_per_hour": "65", "travel_per_km": "1.6",
                                        "filing_days": "40", "valid_from": date(2026, 1, 1).isoformat(),
                                        "next": "/parts/catalogue/"})
    rate = claims.rate_for("山东省", today)
    assert rate.labour_per_hour == Decimal("65.00") and rate.filing_days == 40
    resp = client.post("/parts/act/rate_set", {"province": "山东省", "labour_per_hour": "abc", "travel_per_km": "1",
                                               "filing_days": "0", "valid_from": "2026-01-01", "next": "/parts/catalogue/"})
    assert resp.status_code == 422 and 'data-field-error="labour_per_hour"' in resp.content.decode()
    assert ClaimRate.objects.count() == 1

    # A partner's coordinator neither sees the page nor can post to it.
    client.force_login(net.agency_tech)
    assert client.get("/parts/catalogue/").status_code == 403
    client.post("/parts/act/price_set", {"part_id": part.pk, "audience": "customer", "price": "1",
                                         "valid_from": today.isoformat(), "next": "/parts/van/"})
    assert PartPrice.objects.filter(part=part).count() == 2
