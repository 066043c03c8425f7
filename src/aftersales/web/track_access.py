"""The customer's tracking access, kept in their session (issue 20).

The SMS link ``/t/<token>`` is a one-step sign-in: it checks the token, records here that this
browser may see that order, and sends the customer on to ``/track/``. So the token leaves the address
bar and the browser's history at once, and ``/track/`` (the public, indexable page) shows the
orders of this session, or the public look-up form to anyone else.

What the session holds per order: its id, when the access ends, and an HMAC of the id and the
current token (``salted_hmac``, keyed by SECRET_KEY). Not the token itself: whatever session engine
is configured (a signed cookie shows its contents to the browser), it holds nothing that opens the
order elsewhere; and a token that is replaced ends the access it gave. The access lasts
ACCESS_SECONDS from the last time the link was opened, at most MAX_ORDERS orders per session (the
oldest goes first); the session's own cookie age bounds it as well.
"""

from __future__ import annotations

import time

from django.utils.crypto import constant_time_compare, salted_hmac

from aftersales.service.models import ServiceOrder

SESSION_KEY = "track_access"
ACCESS_SECONDS = 14 * 24 * 3600  # two weeks: long enough to rate the repair after it is done
MAX_ORDERS = 10  # a farmer with several machines; the bound keeps the session small


def _seal(order: ServiceOrder) -> str:
    return salted_hmac("aftersales.web.track_access", f"{order.pk}:{order.tracking_token}").hexdigest()


def grant(request, order: ServiceOrder) -> None:
    """This browser may see ``order`` for ACCESS_SECONDS (called only after the token was checked)."""
    if not request.session.get(SESSION_KEY):
        # A new session id when the first order comes in: a session id planted on the customer's
        # phone beforehand (session fixation) opens nothing.
        request.session.cycle_key()
    now = int(time.time())
    entries = {pk: e for pk, e in _entries(request).items() if e[0] > now and pk != str(order.pk)}
    entries[str(order.pk)] = [now + ACCESS_SECONDS, _seal(order)]
    # Newest last (dicts keep insertion order); the oldest beyond the bound are dropped.
    request.session[SESSION_KEY] = dict(list(entries.items())[-MAX_ORDERS:])


def _entries(request) -> dict:
    raw = request.session.get(SESSION_KEY)
    return raw if isinstance(raw, dict) else {}


def orders(request) -> tuple[list[ServiceOrder], bool]:
    """The orders this session may see, newest grant first, and whether an access has lapsed since
    the last look (so the page can say why an order is no longer shown)."""
    entries = _entries(request)
    if not entries:
        return [], False
    now = int(time.time())
    live = {pk: e for pk, e in entries.items() if isinstance(e, list) and len(e) == 2 and e[0] > now and pk.isdigit()}
    found = {str(o.pk): o for o in ServiceOrder.objects.select_related(
        "assigned_org", "assigned_technician", "machine__model").filter(pk__in=[int(pk) for pk in live])}
    kept = {pk: e for pk, e in live.items() if pk in found and constant_time_compare(e[1], _seal(found[pk]))}
    if kept != entries:
        request.session[SESSION_KEY] = kept
    return [found[pk] for pk in reversed(kept)], len(kept) < len(entries)


def order(request, number: str) -> ServiceOrder | None:
    """The session's order with this number, or None when this browser may not see it."""
    number = (number or "").strip().upper()
    return next((o for o in orders(request)[0] if o.number == number), None)


def forget(request) -> None:
    request.session.pop(SESSION_KEY, None)
