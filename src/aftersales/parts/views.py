"""备件 pages: the technician's van on the phone, the branch's or agency's stock and requisitions, the
centre's parts desk, the claims reviewer and the monthly settlement (print and Excel). Forms post to
one view that calls the same services as the API and comes back to the page with a message."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _, gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from aftersales.core.errors import DomainError
from aftersales.parts import catalogue, claims, policies, returns, selectors, services
from aftersales.parts.models import (
    ClaimStatus,
    OldPartStatus,
    RequisitionStatus,
    SettlementStatus,
    Verdict,
)
from aftersales.web.export import Column, wants_xlsx, xlsx_response


def _page(view):
    """A page of another organization's object is a 404, as in the API."""
    from functools import wraps

    from django.http import Http404

    from aftersales.core.errors import NotFound

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from None

    return wrapped


def _render(request, template: str, context: dict):
    """A page; after a refused form (``act``), with that form's errors and typed values, and the
    error's status (422 for bad input) so nothing reads it as a success."""
    form = getattr(request, "parts_form", None)
    return render(request, template, {**context, "form": form, "page_path": form["path"] if form else request.path},
                  status=form["status"] if form else 200)


def _with_transit(qs) -> list:
    """The requisitions with each line's quantity on its way (from the ledger) as ``ln.in_transit``."""
    reqs = list(qs.prefetch_related("lines__part"))
    transit = selectors.requisition_transit(reqs)
    for r in reqs:
        for ln in r.lines.all():
            ln.in_transit = transit.get(r.pk, {}).get(ln.part_id)
    return reqs


def _flags(claim) -> list[tuple[str, str, bool]]:
    return [(f, str(claims.FLAG_LABELS.get(f, f)), f in claims.SOFT_FLAGS) for f in claim.flags]


def _need(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied(_("You may not do this with parts."))


def _parts_choice(user):
    return list(selectors.part_queryset(user).filter(is_active=True).order_by("number")[:500])


def _open_orders(user):
    from aftersales.service.models import OPEN_STATUSES
    from aftersales.service.selectors import order_queryset_plain

    return list(order_queryset_plain(user).filter(status__in=OPEN_STATUSES, assigned_technician=user)
                .order_by("-created_at").only("pk", "number")[:50])


@login_required
@require_GET
def van_page(request):
    """The technician's phone: what is on the van, what is on its way, what must go back."""
    _need(policies.may_use_parts(request.user))
    # Reading the page writes nothing: a technician without a van sees the 开通车载库 button (van_open).
    van = selectors.van_of(request.user)
    balances = list(selectors.balance_queryset(request.user).filter(warehouse=van).order_by("part__number")) if van else []
    reqs = _with_transit(selectors.requisition_queryset(request.user).filter(requested_by=request.user)[:20])
    old = list(selectors.old_part_queryset(request.user).filter(order__assigned_technician=request.user,
                                                                status=OldPartStatus.AWAITING)[:50])
    return _render(request, "parts/van.html", {"van": van, "may_open_van": van is None and request.user.has_role("field_technician"),
                                              "balances": balances, "requisitions": reqs,
                                              "transit": selectors.in_transit(request.user, warehouse=van) if van else [],
                                              "old_parts": old, "parts": _parts_choice(request.user),
                                              "orders": _open_orders(request.user)})


@login_required
@require_GET
def stock_page(request):
    """The branch's or agency's stock (every warehouse it has, vans included), its requisitions, the
    replenishment suggestion and the old parts to send back."""
    _need(policies.may_use_parts(request.user) or policies.is_parts_desk(request.user))
    warehouses = list(selectors.warehouse_queryset(request.user).filter(organization_id=request.user.organization_id))
    balances = list(selectors.balance_queryset(request.user).filter(warehouse__in=warehouses)
                    .order_by("warehouse__code", "part__number"))
    reqs = _with_transit(selectors.requisition_queryset(request.user).filter(organization_id=request.user.organization_id)[:50])
    old = list(selectors.old_part_queryset(request.user).filter(organization_id=request.user.organization_id,
                                                                status=OldPartStatus.AWAITING)[:100])
    return _render(request, "parts/stock.html", {
        "warehouses": warehouses, "balances": balances, "requisitions": reqs, "old_parts": old,
        "transit": [t for t in selectors.in_transit(request.user) if t["to_warehouse"] in warehouses],
        "suggestions": selectors.replenishment(request.user) if warehouses else [],
        "parts": _parts_choice(request.user)})


@login_required
@require_GET
def desk_page(request):
    """The centre's parts desk: requisitions to decide and to ship, what to reorder, receipts, old parts
    arriving and to inspect."""
    _need(policies.is_parts_desk(request.user) or policies.may_inspect(request.user))
    reqs = selectors.requisition_queryset(request.user).prefetch_related("lines__part")
    return _render(request, "parts/desk.html", {
        "to_decide": list(reqs.filter(status=RequisitionStatus.REQUESTED)[:50]),
        "to_ship": list(reqs.filter(status=RequisitionStatus.APPROVED)[:50]),
        "in_transit": _with_transit(reqs.filter(status=RequisitionStatus.SHIPPED)[:50]),
        "suggestions": selectors.replenishment(request.user),
        "warehouses": list(selectors.warehouse_queryset(request.user).exclude(kind="van")),
        "parts": _parts_choice(request.user),
        "batches": list(selectors.batch_queryset(request.user).filter(received_at=None)[:50]),
        "to_inspect": list(selectors.old_part_queryset(request.user).filter(status=OldPartStatus.RECEIVED)[:100]),
        "verdicts": Verdict.choices, "is_desk": policies.is_parts_desk(request.user),
        "may_inspect": policies.may_inspect(request.user)})


@login_required
@require_GET
def catalogue_page(request):
    """The centre's parts desk keeps the catalogue, the prices and the claim rates here."""
    from aftersales.accounts.models import OrganizationKind
    from aftersales.parts.models import ClaimRate, Part, PriceAudience
    from aftersales.registry.models import CustomerClass
    from aftersales.warranty.services import known_components

    _need(policies.is_parts_desk(request.user))
    rows = list(Part.objects.order_by("number").prefetch_related("prices")[:500])
    today = timezone.localdate()
    for part in rows:
        current = [p for p in part.prices.all() if p.valid_from <= today and (p.valid_until is None or p.valid_until >= today)]
        part.current_prices = sorted(current, key=lambda p: (p.audience, p.level))
    editing = next((p for p in rows if str(p.pk) == request.GET.get("edit", "")), None)
    return _render(request, "parts/catalogue.html", {
        "parts": rows, "editing": editing, "components": sorted(known_components()),
        "audiences": PriceAudience.choices,
        "levels": [("", _("All"))] + list(CustomerClass.choices) + [
            (OrganizationKind.DIRECT_BRANCH, OrganizationKind.DIRECT_BRANCH.label),
            (OrganizationKind.AUTHORIZED_AGENCY, OrganizationKind.AUTHORIZED_AGENCY.label)],
        "rates": list(ClaimRate.objects.order_by("province", "-valid_from")[:200]), "today": today})


@login_required
@require_GET
def claim_list(request):
    show = request.GET.get("status", "")
    qs = selectors.claim_queryset(request.user)
    if show in ClaimStatus.values:
        qs = qs.filter(status=show)
    rows = list(qs[:200])
    if request.GET.get("flagged"):
        rows = [c for c in rows if set(c.flags) - claims.SOFT_FLAGS]
    for c in rows:
        c.flag_list = _flags(c)
    return _render(request, "parts/claims.html", {"claims": rows, "show": show, "statuses": ClaimStatus.choices,
                                                 "flagged": bool(request.GET.get("flagged")),
                                                 "reviewer": policies.may_review_claims(request.user)})


@login_required
@require_GET
@_page
def claim_page(request, pk: int):
    claim = selectors.claim_get(request.user, pk)
    return _render(request, "parts/claim.html", {
        "claim": claim, "lines": list(claim.lines.all()), "flags": _flags(claim),
        "old_parts": list(claim.order.old_parts.select_related("part")),
        "reviewer": policies.may_review_claims(request.user) and claim.status == ClaimStatus.SUBMITTED,
        "may_submit": claim.status == ClaimStatus.DRAFT and (request.user.organization_id == claim.organization_id
                                                             or policies.may_review_claims(request.user))})


SETTLEMENT_COLUMNS = (
    Column(gettext_lazy("Claim"), lambda c: c.number, 22),
    Column(gettext_lazy("Order"), lambda c: c.order.number, 20),
    Column(gettext_lazy("Completed"), lambda c: timezone.localtime(c.completed_at).date(), 12),
    Column(gettext_lazy("Parts"), lambda c: c.parts_amount, 12),
    Column(gettext_lazy("Labour"), lambda c: c.labour_amount, 12),
    Column(gettext_lazy("Travel"), lambda c: c.travel_amount, 12),
    Column(gettext_lazy("Claimed"), lambda c: c.total, 12),
    Column(gettext_lazy("Approved"), lambda c: c.approved_total, 12),
    Column(gettext_lazy("Review reason"), lambda c: c.review_reason, 30),
)


@login_required
@require_GET
def settlement_list(request):
    from aftersales.accounts.models import Organization

    rows = list(selectors.settlement_queryset(request.user)[:100])
    reviewer = policies.may_review_claims(request.user)
    return _render(request, "parts/settlements.html", {
        "settlements": rows, "reviewer": reviewer,
        "organizations": list(Organization.objects.filter(is_active=True, kind__in=["direct_branch", "authorized_agency"]))
        if reviewer else [], "last_month": (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=1)})


@login_required
@require_GET
@_page
def settlement_page(request, pk: int):
    s = selectors.settlement_get(request.user, pk)
    rows = list(s.claims.select_related("order").prefetch_related("lines").order_by("number"))
    if wants_xlsx(request):
        return xlsx_response(filename=f"settlement-{s.number}", title=s.number, columns=SETTLEMENT_COLUMNS, rows=rows)
    return _render(request, "parts/settlement.html", {
        "s": s, "claims": rows,
        "may_confirm": s.status == SettlementStatus.ISSUED and request.user.organization_id == s.organization_id,
        "may_pay": s.status == SettlementStatus.CONFIRMED and policies.may_review_claims(request.user)})


def _int(value, default=None):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _act(request, action: str):
    """One form post → one service call."""
    p, u = request.POST, request.user
    if action == "request":
        lines = [services.LineInput(part_id=_int(pid, 0), quantity=q or "0")
                 for pid, q in zip(p.getlist("part_id"), p.getlist("quantity")) if pid]
        r = services.requisition_create(actor=u, lines=lines, order_id=_int(p.get("order_id")),
                                        to_warehouse_id=_int(p.get("to_warehouse_id")), note=p.get("note", ""))
        return _("Requisition %(number)s sent.") % {"number": r.number}
    if action == "part_save":
        part = catalogue.part_save(
            actor=u, part_id=_int(p.get("id")), number=p.get("number", ""), name_zh=p.get("name_zh", ""),
            name_en=p.get("name_en", ""), unit=p.get("unit", ""), component=p.get("component", ""),
            wear_part="wear_part" in p, serial_tracked="serial_tracked" in p, return_required="return_required" in p,
            standard_cost=p.get("standard_cost", "") or "0", is_active="is_active" in p)
        return _("Part %(number)s saved.") % {"number": part.number}
    if action == "price_set":
        catalogue.price_set(actor=u, part_id=_int(p.get("part_id"), 0), audience=p.get("audience", ""),
                            level=p.get("level", ""), price=p.get("price", ""), valid_from=p.get("valid_from", ""))
        return _("Price saved.")
    if action == "rate_set":
        catalogue.rate_set(actor=u, province=p.get("province", ""), labour_per_hour=p.get("labour_per_hour", ""),
                           travel_per_km=p.get("travel_per_km", ""), filing_days=p.get("filing_days", ""),
                           valid_from=p.get("valid_from", ""))
        return _("Claim rates saved.")
    if action == "open_van":
        w = services.van_open(actor=u)
        return _("Van stock %(name)s opened.") % {"name": w.name}
    if action == "approve":
        approved = {int(k[9:]): v for k, v in p.items() if k.startswith("approved_") and k[9:].isdigit() and v != ""}
        r = services.requisition_approve(actor=u, requisition_id=_int(p.get("id"), 0), version=_int(p.get("version"), 0),
                                         approved=approved, note=p.get("note", ""))
        return _("Requisition %(number)s approved.") % {"number": r.number}
    if action == "reject":
        services.requisition_reject(actor=u, requisition_id=_int(p.get("id"), 0), version=_int(p.get("version"), 0),
                                    note=p.get("note", ""))
        return _("Requisition rejected.")
    if action == "ship":
        serials = {int(k[8:]): [s for s in v.replace("，", ",").split(",")] for k, v in p.items()
                   if k.startswith("serials_") and k[8:].isdigit()}
        services.requisition_ship(actor=u, requisition_id=_int(p.get("id"), 0), version=_int(p.get("version"), 0),
                                  tracking_number=p.get("tracking_number", ""), serials=serials)
        return _("Shipped.")
    if action == "receive":
        services.requisition_receive(actor=u, requisition_id=_int(p.get("id"), 0), version=_int(p.get("version"), 0))
        return _("Receipt confirmed; the parts are in stock.")
    if action == "receipt":
        services.stock_receive(actor=u, warehouse_id=_int(p.get("warehouse_id"), 0), part_id=_int(p.get("part_id"), 0),
                               quantity=p.get("quantity", ""), unit_cost=p.get("unit_cost") or 0,
                               serial=p.get("serial", ""), reason=p.get("reason", ""))
        return _("Stock received.")
    if action == "ship_old":
        b = returns.old_parts_ship(actor=u, old_part_ids=[_int(x, 0) for x in p.getlist("old_part_id")],
                                    tracking_number=p.get("tracking_number", ""))
        return _("Old parts shipped in batch %(number)s.") % {"number": b.number}
    if action == "receive_batch":
        returns.batch_receive(actor=u, batch_id=_int(p.get("id"), 0))
        return _("Batch received.")
    if action == "inspect":
        returns.old_part_inspect(actor=u, old_part_id=_int(p.get("id"), 0), verdict=p.get("verdict", ""),
                                  note=p.get("note", ""))
        return _("Inspection recorded.")
    if action == "submit_claim":
        claims.claim_submit(actor=u, claim_id=_int(p.get("id"), 0), version=_int(p.get("version"), 0),
                            claimed_km=p.get("claimed_km") or None)
        return _("Claim submitted.")
    if action in ("approve_claim", "adjust_claim", "reject_claim"):
        amounts = {int(k[7:]): v for k, v in p.items() if k.startswith("amount_") and k[7:].isdigit() and v != ""}
        claims.claim_review(actor=u, claim_id=_int(p.get("id"), 0), version=_int(p.get("version"), 0),
                            decision=action.split("_")[0], reason=p.get("reason", ""), amounts=amounts)
        return _("Review recorded.")
    if action == "settle":
        try:
            month = date.fromisoformat(p.get("month", "") + ("-01" if len(p.get("month", "")) == 7 else ""))
        except ValueError:
            from aftersales.core.errors import ValidationFailed

            raise ValidationFailed(_("Nothing was changed."), fields={"month": _("Choose a month.")}) from None
        s = claims.settlement_issue(actor=u, organization_id=_int(p.get("organization_id"), 0), month=month)
        return _("Settlement %(number)s issued.") % {"number": s.number}
    if action == "confirm_settlement":
        claims.settlement_confirm(actor=u, settlement_id=_int(p.get("id"), 0))
        return _("Settlement confirmed.")
    if action == "pay_settlement":
        selectors.settlement_get(u, _int(p.get("id"), 0))
        claims.settlement_pay(actor=u, settlement_id=_int(p.get("id"), 0), payment_reference=p.get("payment_reference", ""))
        return _("Payment recorded.")
    raise PermissionDenied


# The pages a refused form is shown again on (the page it was sent from).
REDISPLAY = frozenset({"van", "stock", "desk", "claim", "settlements", "settlement", "catalogue"})


def _redisplay(request, back: str, action: str, exc: DomainError):
    """The page the form came from, drawn again with the form's errors per field and what was typed,
    so a technician on a phone does not type it all again. None when the page cannot be drawn."""
    import inspect
    import re
    from urllib.parse import urlsplit

    from django.http import Http404
    from django.urls import Resolver404, resolve

    try:
        match = resolve(urlsplit(back).path)
    except Resolver404:
        return None
    if match.app_name != "parts" or match.url_name not in REDISPLAY:
        return None
    errors: dict[str, str] = {}
    for key, message in exc.fields.items():
        errors[key] = message
        # "lines[0].quantity" is the one line's "quantity" input of the form.
        errors.setdefault(re.sub(r"\[\d+\]", "", key).split(".")[-1], message)
    request.parts_form = {"action": action, "status": exc.status, "path": urlsplit(back).path, "message": exc.message,
                          "messages": list(exc.fields.values()), "errors": errors,
                          "values": {k: request.POST.get(k, "") for k in request.POST if k != "csrfmiddlewaretoken"}}
    try:
        return inspect.unwrap(match.func)(request, *match.args, **match.kwargs)
    except (Http404, PermissionDenied, DomainError):
        return None


@login_required
@require_POST
def act(request, action: str):
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}) or not back.startswith("/"):
        back = "/parts/"
    try:
        messages.success(request, _act(request, action))
    except DomainError as exc:
        page = _redisplay(request, back, action, exc)
        if page is not None:
            return page
        text = exc.message
        if exc.fields:
            text += " " + "；".join(f"{v}" for v in exc.fields.values())
        messages.error(request, text)
    return redirect(back)


@login_required
@require_GET
def home(request):
    if policies.is_parts_desk(request.user) or policies.may_inspect(request.user):
        return redirect("parts:desk")
    if request.user.has_role("field_technician"):
        return redirect("parts:van")
    return redirect("parts:stock")

