"""报价: charges for paid (out-of-warranty) work, accepted or declined by the customer.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.service.models import (
    Quote,
    QuoteStatus,
    ServiceOrder,
)
from aftersales.service.services.common import _decimal, _perform, _raise_if, _text


def _quote_lines(errors: dict, items) -> tuple[list[dict], Decimal, Decimal]:
    lines, parts, labour = [], Decimal(0), Decimal(0)
    if not items:
        errors["items"] = _("A quote needs at least one line.")
    for i, item in enumerate(items or []):
        kind = item.get("kind", "part")
        if kind not in ("part", "labour", "travel"):
            errors[f"items[{i}].kind"] = _("Use part, labour or travel.")
        qty = _decimal(errors, f"items[{i}].quantity", item.get("quantity"), minimum=Decimal("0.01"))
        price = _decimal(errors, f"items[{i}].unit_price", item.get("unit_price"))
        description = _text(item.get("description") or item.get("name"), 100)
        if kind == "part" and not _text(item.get("part_number")):
            errors[f"items[{i}].part_number"] = _("This field is required.")
        if qty is None or price is None:
            continue
        amount = (qty * price).quantize(Decimal("0.01"))
        if kind == "labour":
            labour += amount
        elif kind == "part":
            parts += amount
        lines.append({"kind": kind, "part_number": _text(item.get("part_number"), 40), "description": description,
                      "quantity": str(qty), "unit_price": str(price), "amount": str(amount)})
    return lines, parts, labour


def order_quote(*, actor, order_id: int, version: int, items: list[dict], reason: str = "", note: str = "") -> ServiceOrder:
    """有偿服务: parts and labour priced and told to the customer before work starts."""
    def apply(order):
        errors = {}
        lines, parts, labour = _quote_lines(errors, items)
        _raise_if(errors)
        order.quotes.filter(status=QuoteStatus.PROPOSED).update(status=QuoteStatus.SUPERSEDED)
        quote = Quote.objects.create(order=order, items=lines, parts_total=parts, labour_total=labour,
                                     total=sum((Decimal(line["amount"]) for line in lines), Decimal(0)), reason=_text(reason, 300), created_by=actor)
        return {"quote_id": quote.pk, "total": str(quote.total)}
    return _perform(actor=actor, order_id=order_id, action="quote", version=version, note=note, apply=apply)


def _decide_quote(order, status: str, note: str) -> dict:
    quote = order.quotes.filter(status=QuoteStatus.PROPOSED).order_by("-id").first()
    quote.status, quote.decided_at, quote.decided_note = status, timezone.now(), _text(note, 300)
    quote.save(update_fields=["status", "decided_at", "decided_note"])
    return {"quote_id": quote.pk, "total": str(quote.total)}


def order_quote_accept(*, actor, order_id: int, version: int, note: str = "") -> ServiceOrder:
    return _perform(actor=actor, order_id=order_id, action="quote_accept", version=version, note=note,
                    apply=lambda order: _decide_quote(order, QuoteStatus.ACCEPTED, note))


def order_quote_decline(*, actor, order_id: int, version: int, note: str = "") -> ServiceOrder:
    return _perform(actor=actor, order_id=order_id, action="quote_decline", version=version, note=note,
                    apply=lambda order: _decide_quote(order, QuoteStatus.DECLINED, note))
