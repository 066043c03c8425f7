"""The customer's tracking page (no account), ``/track/``: the SMS link ``/t/<token>`` (an
unguessable token per order) and the look-up by order number + phone are one-step sign-ins that
give this browser's session access to the order (track_access) and redirect to ``/track/``, which
shows the session's orders, or the public look-up form to anyone else. Failed look-ups are counted
per client address and refused for a while after too many, so neither tokens nor phone numbers can
be tried in bulk."""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _, gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from aftersales.accounts.backends import client_address
from aftersales.core import throttle
from aftersales.core.errors import Conflict, DomainError, Throttled, ValidationFailed
from aftersales.core.phones import normalize_phone, public_number
from aftersales.service import services
from aftersales.service.models import OrderStatus as S, ServiceOrder
from aftersales.web import track_access
from aftersales.web.orders import error_message

FAILURE_LIMIT = 10
FAILURE_WINDOW = 15 * 60

# The customer's view of the flow: a few steps in plain words instead of seventeen statuses.
STEPS = [
    ("received", gettext_lazy("Request received"), {S.NEW, S.FORWARDED, S.DIAGNOSING, S.AWAITING_APPROVAL, S.INVESTIGATING}),
    ("dispatched", gettext_lazy("Service arranged"), {S.AWAITING_DISPATCH, S.DISPATCHED, S.ACCEPTED, S.ASSIGNED, S.ESCALATED}),
    ("scheduled", gettext_lazy("Technician on the way"), {S.TECH_ACCEPTED, S.SCHEDULED}),
    ("in_service", gettext_lazy("Being repaired"), {S.IN_SERVICE, S.AWAITING_CONFIRMATION}),
    ("completed", gettext_lazy("Service completed"), {S.COMPLETED}),
    ("closed", gettext_lazy("Closed"), {S.CLOSED}),
]
PLAIN = {
    S.NEW: gettext_lazy("We have your request and a hotline technician will call you back soon."),
    S.FORWARDED: gettext_lazy("We have your request and a hotline technician will call you back soon."),
    S.DIAGNOSING: gettext_lazy("Our hotline technician is looking into the fault with you."),
    S.AWAITING_DISPATCH: gettext_lazy("We are choosing the service point nearest to you."),
    S.DISPATCHED: gettext_lazy("A service point has received your order."),
    S.ACCEPTED: gettext_lazy("A service point is choosing a technician for you."),
    S.ASSIGNED: gettext_lazy("A technician has been chosen for you."),
    S.TECH_ACCEPTED: gettext_lazy("The technician will call you to agree on a time."),
    S.SCHEDULED: gettext_lazy("The technician will come at the agreed time."),
    S.IN_SERVICE: gettext_lazy("Your machine is being repaired."),
    S.AWAITING_CONFIRMATION: gettext_lazy("The repair is done; please confirm it with the technician."),
    S.COMPLETED: gettext_lazy("The service is complete. Please tell us how we did."),
    S.CLOSED: gettext_lazy("This order is closed. Thank you for your trust."),
    S.ESCALATED: gettext_lazy("Our technical engineers are working on your problem."),
    S.AWAITING_APPROVAL: gettext_lazy("Your return or exchange request is being reviewed."),
    S.INVESTIGATING: gettext_lazy("Your complaint is being looked into by a supervisor."),
    S.CANCELLED: gettext_lazy("This order was cancelled."),
}


# What each star means, read out by screen readers and shown beside the chosen star.
STAR_LABELS = {
    1: gettext_lazy("1 star, very dissatisfied"),
    2: gettext_lazy("2 stars, dissatisfied"),
    3: gettext_lazy("3 stars, neither"),
    4: gettext_lazy("4 stars, satisfied"),
    5: gettext_lazy("5 stars, very satisfied"),
}


def _key(request) -> str:
    return throttle.key("track-failures", client_address(request))


def _throttled(request) -> bool:
    # The shared counter (core.throttle): the same for every worker and node, kept across restarts.
    try:
        throttle.check(_key(request), limit=FAILURE_LIMIT, window=FAILURE_WINDOW)
    except Throttled:
        return True
    return False


def _failed(request) -> None:
    throttle.record(_key(request), window=FAILURE_WINDOW)


def _order_by_token(token: str) -> ServiceOrder | None:
    if not token or len(token) > 32:
        return None
    return (ServiceOrder.objects.select_related("assigned_org", "assigned_technician", "machine__model")
            .filter(tracking_token=token).first())


def _order_by_number_and_phone(number: str, phone: str) -> ServiceOrder | None:
    try:
        e164 = normalize_phone(phone)
    except ValidationFailed:
        return None
    return ServiceOrder.objects.filter(number=number.strip().upper(), contact_phone=e164).exclude(tracking_token=None).first()


def _hotline():
    return _call(_("Service hotline"), settings.HOTLINE, as_configured=True)


def _find_page(request, context: dict, status: int = 200):
    return render(request, "web/track_find.html", {**context, "hotline": _hotline()}, status=status)


def _too_many(request):
    return _find_page(request, {"error": _("Too many attempts. Please try again in 15 minutes.")}, status=429)


@require_http_methods(["GET", "POST"])
def find(request):
    """``/track/``: the orders this session may see (from the SMS link or an earlier look-up), or the
    public look-up form. Order number + phone is a sign-in like the SMS link: the answer is a
    redirect back here, so the phone never appears in a URL."""
    if request.method == "GET":
        orders, lapsed = track_access.orders(request)
        if orders:
            return _page(request, orders)
        return _find_page(request, {"error": _("Your access to the order has ended on this phone. Open the link "
                                               "in the SMS again, or enter the order number and phone.")} if lapsed else {})
    if _throttled(request):
        return _too_many(request)
    order = _order_by_number_and_phone(request.POST.get("number", "")[:20], request.POST.get("phone", "")[:30])
    if order is None:
        _failed(request)
        return _find_page(request, {
            "error": _("No order matches this number and phone."), "number": request.POST.get("number", "")[:20],
        }, status=404)
    track_access.grant(request, order)
    return redirect_303("web:track-find")


@require_POST
def forget(request):
    """"Forget these orders on this phone": for a phone that is lent or shared."""
    track_access.forget(request)
    messages.info(request, _("The orders are no longer shown on this phone."))
    return redirect_303("web:track-find")


def _call(label, number: str, *, as_configured: bool = False) -> dict | None:
    """A tap-to-call button: the number as people read it, and a tel: link a phone can dial.

    The hotline is shown as configured (400-800-1234 is how a 400 number is written and
    remembered) and dialled as its digits; an organization's phone is shown by the project's one
    phone rule (core.phones) and dialled in the international form."""
    number = (number or "").strip()
    if not number:
        return None
    if not as_configured:
        try:
            e164 = normalize_phone(number)
        except ValidationFailed:
            pass  # not a number the phone rule knows: shown and dialled as stored
        else:
            return {"label": label, "number": public_number(e164), "href": "tel:" + e164}
    return {"label": label, "number": number, "href": "tel:" + re.sub(r"[^0-9+]", "", number)}


def _calls(order) -> list[dict]:
    """The hotline, and the service point that serves the order (the customer's nearest help)."""
    calls = [_hotline()]
    if order.assigned_org_id:
        calls.append(_call(_("Call %(name)s") % {"name": order.assigned_org.name}, order.assigned_org.contact_phone))
    return [c for c in calls if c]


def _steps(order) -> list[dict]:
    current = next((i for i, (_code, _label, statuses) in enumerate(STEPS) if order.status in statuses), 0)
    return [{"label": label, "done": i < current, "current": i == current} for i, (_c, label, _s) in enumerate(STEPS)]


def _by_link(request, token: str):
    """The SMS link's order, or the answer to give instead (throttled, or a link that is not valid)."""
    if _throttled(request):
        return None, _too_many(request)
    order = _order_by_token(token)
    if order is None:
        _failed(request)
        return None, _find_page(request, {"error": _("This link is not valid. Check that the whole link from the "
                                                     "SMS was opened, or enter the order number and phone.")},
                                status=404)
    return order, None


@require_http_methods(["GET"])
def track(request, token: str):
    """The SMS link: a one-step sign-in to the order, then ``/track/`` (see track_access)."""
    order, answer = _by_link(request, token)
    if answer:
        return answer
    track_access.grant(request, order)
    return redirect_303("web:track-find")


def _entry(order, **extra) -> dict:
    rating = getattr(order, "rating", None) if order.status == S.CLOSED else None
    return {
        "order": order, "steps": _steps(order), "plain": PLAIN.get(order.status, ""), "rating": rating,
        "rating_label": STAR_LABELS.get(rating.score) if rating else "",
        "may_rate": order.status == S.COMPLETED, "cancelled": order.status == S.CANCELLED, **extra,
    }


def _page(request, orders, *, status: int = 200, extra: dict | None = None):
    """The session's orders; ``extra`` adds what one order's form needs back (its pk → context)."""
    extra = extra or {}
    calls, seen = [], set()
    for order in orders:
        for call in _calls(order):
            if call["href"] not in seen:
                seen.add(call["href"])
                calls.append(call)
    return render(request, "web/track.html", {
        "entries": [_entry(o, **extra.get(o.pk, {})) for o in orders], "stars": list(STAR_LABELS.items()),
        "calls": calls, "hotline": _hotline(),
    }, status=status)


@require_POST
def rate(request, token: str):
    """The rating form as first sent (from pages opened before the session sign-in): signs in too."""
    order, answer = _by_link(request, token)
    if answer:
        return answer
    track_access.grant(request, order)
    return _rate(request, order)


@require_POST
def rate_here(request):
    """The rating form of ``/track/``: the order by its number, allowed only if this session may see it."""
    if _throttled(request):
        return _too_many(request)
    order = track_access.order(request, request.POST.get("order", "")[:20])
    if order is None:
        _failed(request)
        return _find_page(request, {"error": _("This order is not open on this phone. Open the link in the SMS "
                                               "again, or enter the order number and phone.")}, status=403)
    return _rate(request, order)


def _rate(request, order):
    try:
        score = int(request.POST.get("score", ""))
    except ValueError:
        score = 0
    if score not in STAR_LABELS and order.status == S.COMPLETED:
        # No star chosen (the browser's own check is skipped by some phones): say so beside the
        # stars and keep what the customer wrote, instead of a redirect that loses it.
        return _page(request, track_access.orders(request)[0] or [order], status=400, extra={order.pk: {
            "score_error": _("Please choose from 1 to 5 stars."), "comment": request.POST.get("comment", "")[:2000]}})
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = 0
    try:
        services.order_rate_by_customer(token=order.tracking_token, version=version, score=score,
                                        comment=request.POST.get("comment", "")[:2000])
    except Conflict as exc:
        messages.warning(request, error_message(exc))
    except DomainError as exc:
        messages.error(request, error_message(exc))
    else:
        messages.success(request, _("Thank you for your rating!"))
    return redirect_303("web:track-find")


def redirect_303(name: str) -> HttpResponseRedirect:
    """303 See Other: after a POST (and the link's sign-in) the browser GETs the page, and Back or
    reload never repeats the POST."""
    response = HttpResponseRedirect(reverse(name))
    response.status_code = 303
    return response
