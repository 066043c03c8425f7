"""What several web modules need of one order: reading it for the page (a 404 outside the user's
scope), its contact number as the page shows it, and a refused action's message. Below the page
modules (views, print, export, suggestions, tracking), so they share it without importing each
other in a circle."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _

from aftersales.core.errors import DomainError, NotFound
from aftersales.registry.policies import phone_for
from aftersales.service import selectors


def get_order(user, pk: int):
    try:
        return selectors.order_get(user, pk, related=selectors.ORDER_PAGE_RELATED)
    except NotFound:
        raise Http404(_("Service order not found.")) from None


def order_phone(user, order) -> str:
    """The order's contact number by the one phone rule, as the order page shows it to ``user``."""
    return phone_for(user, None, order.contact_phone, order=order, where="web:order").text


def error_message(exc: DomainError) -> str:
    details = "；".join(exc.fields.values())
    return f"{exc.message} {details}".strip() if details else exc.message
