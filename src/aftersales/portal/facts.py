"""What the customer sees of one order, the same on the /m/ page and in the portal API: the progress
steps and the plain sentence of the tracking page, what they may do now, their rating, the files'
kinds and the numbers to call (public numbers through the phone rule). Nothing internal: no notes,
no timeline events, no staff phones."""

from __future__ import annotations

from aftersales.portal import services
from aftersales.service.models import OrderStatus, OrderType
from aftersales.web.tracking import PLAIN, STAR_LABELS, _calls, _steps


def order_facts(order) -> dict:
    rating = getattr(order, "rating", None) if order.status == OrderStatus.CLOSED else None
    return {
        "steps": _steps(order) if order.status != OrderStatus.CANCELLED else [],
        "plain": str(PLAIN.get(order.status, "")),
        "calls": _calls(order),
        "may_confirm": order.status == OrderStatus.AWAITING_CONFIRMATION and order.order_type == OrderType.REPAIR,
        "may_rate": order.status == OrderStatus.COMPLETED,
        "may_complain": order.order_type != OrderType.COMPLAINT and order.status != OrderStatus.CANCELLED,
        "rating": rating,
        "rating_label": STAR_LABELS.get(rating.score) if rating else "",
        "files": list(order.attachments.order_by("id").values("kind", "content_type", "original_name")),
    }


def complaint_categories() -> list[tuple[str, str]]:
    return [(c.value, str(c.label)) for c in services.COMPLAINT_CATEGORIES]
