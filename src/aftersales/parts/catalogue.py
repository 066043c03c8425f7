"""The centre's parts desk keeps the catalogue, the price lists and the claim rates in the web (not
only in the Django admin): one service per action, each in one transaction, refusing bad input by
field. A price or a rate is never overwritten in place for past dates: a new one starts on its date
and the previous open price of the same audience and level ends the day before, so a claim of last
month keeps the price it was made at."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.accounts.models import OrganizationKind
from aftersales.core.errors import Conflict
from aftersales.parts import policies
from aftersales.parts.models import ClaimRate, Part, PartPrice, PriceAudience
from aftersales.parts.services import _fail, _money
from aftersales.registry.models import CustomerClass


def _date(value, field: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        _fail(**{field: _("Enter a date (YYYY-MM-DD).")})


def part_save(*, actor, part_id: int | None = None, number: str, name_zh: str, name_en: str = "", unit: str = "件",
              component: str = "whole_machine", wear_part: bool = False, serial_tracked: bool = False,
              return_required: bool = False, standard_cost="0", is_active: bool = True) -> Part:
    """A new part number, or an existing one corrected. The number is the key the records use."""
    from aftersales.warranty.services import known_components

    policies.check(policies.is_parts_desk(actor))
    number, name_zh, unit = number.strip(), name_zh.strip(), (unit.strip() or "件")
    errors = {}
    if not number or len(number) > 40:
        errors["number"] = _("Enter the part number (at most 40 characters).")
    if not name_zh or len(name_zh) > 100:
        errors["name_zh"] = _("Enter the Chinese name (at most 100 characters).")
    if len(name_en.strip()) > 100:
        errors["name_en"] = _("At most 100 characters.")
    if len(unit) > 10:
        errors["unit"] = _("At most 10 characters.")
    if component not in known_components():
        errors["component"] = _("Unknown component %(code)s.") % {"code": component[:40]}
    if errors:
        _fail(**errors)
    cost = _money(standard_cost or 0, "standard_cost")
    with transaction.atomic():
        part = Part.objects.select_for_update().filter(pk=part_id).first() if part_id else Part()
        if part is None:
            _fail(part_id=_("Part not found."))
        if Part.objects.filter(number=number).exclude(pk=part.pk).exists():
            raise Conflict(_("Another part has this number."), code="duplicate", fields={"number": _("Taken.")})
        for name, value in (("number", number), ("name_zh", name_zh), ("name_en", name_en.strip()), ("unit", unit),
                            ("component", component), ("wear_part", wear_part), ("serial_tracked", serial_tracked),
                            ("return_required", return_required), ("standard_cost", cost), ("is_active", is_active)):
            setattr(part, name, value)
        part.save()
        return part


def price_set(*, actor, part_id: int, audience: str, level: str = "", price, valid_from) -> PartPrice:
    """A price from a date for an audience (a customer class, a partner level, or blank for all). The
    open price before it ends the day before; the same date again corrects that day's price."""
    policies.check(policies.is_parts_desk(actor))
    levels = {PriceAudience.CUSTOMER: set(CustomerClass.values),
              PriceAudience.PARTNER: {OrganizationKind.DIRECT_BRANCH, OrganizationKind.AUTHORIZED_AGENCY}}
    if audience not in levels:
        _fail(audience=_("Choose customers or partners."))
    if level and level not in levels[audience]:
        _fail(level=_("Not a level of this audience."))
    amount = _money(price, "price")
    start = _date(valid_from, "valid_from")
    with transaction.atomic():
        part = Part.objects.select_for_update().filter(pk=part_id).first()
        if part is None:
            _fail(part_id=_("Part not found."))
        same = PartPrice.objects.filter(part=part, audience=audience, level=level)
        row = same.filter(valid_from=start).first()
        if row is not None:
            row.price = amount
            row.save(update_fields=["price"])
            return row
        later = same.filter(valid_from__gt=start).order_by("valid_from").first()
        same.filter(valid_from__lt=start, valid_until=None).update(valid_until=start - timedelta(days=1))
        same.filter(valid_from__lt=start, valid_until__gte=start).update(valid_until=start - timedelta(days=1))
        return PartPrice.objects.create(part=part, audience=audience, level=level, price=amount, valid_from=start,
                                        valid_until=later.valid_from - timedelta(days=1) if later else None)


def rate_set(*, actor, province: str = "", labour_per_hour, travel_per_km, filing_days, valid_from) -> ClaimRate:
    """The claim rates of a province (blank: everywhere else) from a date; the same date corrects them."""
    policies.check(policies.is_parts_desk(actor))
    province = province.strip()
    if len(province) > 20:
        _fail(province=_("At most 20 characters."))
    labour, travel = _money(labour_per_hour, "labour_per_hour"), _money(travel_per_km, "travel_per_km")
    try:
        days = int(str(filing_days))
        if not 1 <= days <= 366:
            raise ValueError
    except ValueError:
        _fail(filing_days=_("Enter a number of days from 1 to 366."))
    start = _date(valid_from, "valid_from")
    with transaction.atomic():
        rate, _created = ClaimRate.objects.update_or_create(
            province=province, valid_from=start,
            defaults={"labour_per_hour": labour, "travel_per_km": travel, "filing_days": days})
        return rate
