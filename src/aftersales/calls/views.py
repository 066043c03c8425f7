"""The phone system's pages: the desk's pop (polled by the desk every two seconds) and the call
centre's day: agents' figures, late answers, abandoned calls and the callback tasks."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from aftersales.calls import policies, selectors, services
from aftersales.calls.api import day_bounds
from aftersales.core.errors import DomainError, NotFound
from aftersales.registry import selectors as registry_selectors
from aftersales.registry.policies import phone_for


@login_required
@require_GET
def pop(request):
    """The call ringing at my extension that the desk has not shown yet (``after``: the last shown),
    or 204 (htmx leaves the page alone). Known caller: their card (customer, machines, open orders)
    and their intake form; unknown caller: the new-customer form with the number filled in."""
    from aftersales.web import desk

    after = request.GET.get("after", "0")[:18]  # an id, within the 64-bit column
    call = selectors.ringing_for(request.user, after=int(after) if after.isdigit() else 0)
    if call is None:
        return HttpResponse(status=204)
    customer = None
    if call.customer_id:
        try:
            customer = registry_selectors.customer_get(request.user, pk=call.customer_id)
        except NotFound:
            customer = None
    if customer is not None:
        values = {"customer": str(customer.pk)}
    else:
        # The number as the phone rule lets this agent read it. A masked one is not typed in for them:
        # the form carries a reference to the call instead, and the saved customer gets the real number.
        shown = phone_for(request.user, None, call.caller, where="web:call-pop")
        values = ({"customer": desk.NEW, "c_phone_call": str(call.pk)} if shown.masked
                  else {"customer": desk.NEW, "c_phone": shown.value})
    context = {"call": call, "callers": [desk.caller_card(request.user, customer)] if customer else [],
               "form": desk.intake_context(request.user, values), "q": ""}
    return render(request, "calls/pop.html", context)


@login_required
@require_GET
def day(request):
    if not policies.may_read_calls(request.user):
        raise PermissionDenied(_("Calls are for staff with a role."))
    start, end, shown_day = day_bounds(parse_date(request.GET.get("day", "") or "") if request.GET.get("day") else None)
    context = {
        "day": shown_day, "agents": selectors.agent_figures(request.user, start=start, end=end),
        "late": selectors.late_calls(request.user, start=start, end=end),
        "abandoned": selectors.abandoned_calls(request.user, start=start, end=end),
        "callbacks": [(t, t.clock_state(timezone.now())) for t in selectors.open_callbacks(request.user)],
        "three_rings": settings.CTI_THREE_RINGS_SECONDS,
    }
    return render(request, "calls/day.html", context)


@login_required
@require_POST
def callback_done(request, pk: int):
    try:
        services.callback_done(actor=request.user, task_id=pk, note=request.POST.get("note", "").strip())
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Callback recorded."))
    return redirect("calls:day")
