"""传真和邮件: the drafts the worker took from the inbox; an agent completes one into an order or
discards it. The forms post to views that call the inbox services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from aftersales.core.errors import DomainError
from aftersales.core.files import download_response
from aftersales.inbox import policies, selectors, services
from aftersales.inbox.models import DraftState
from aftersales.registry import selectors as registry_selectors
from aftersales.service.models import OrderType


def _check(request) -> None:
    if not policies.may_handle_inbox(request.user):
        raise PermissionDenied(_("The fax and e-mail inbox is handled by the hotline."))


@login_required
@require_GET
def draft_list(request):
    _check(request)
    state = request.GET.get("state", DraftState.DRAFT)
    state = state if state in DraftState.values else DraftState.DRAFT
    return render(request, "inbox/list.html", {"drafts": selectors.drafts(request.user, state=state), "state": state,
                                               "states": DraftState.choices})


def _page(request, draft, *, errors=None, values=None, status=200):
    from aftersales.registry.models import CustomerClass
    from aftersales.web.desk import seller_choices

    machines = []
    if draft.customer_id:
        machines = list(registry_selectors.machine_search(request.user, owner_id=draft.customer_id)[:10])
    return render(request, "inbox/draft.html", {
        "draft": draft, "machines": machines, "errors": errors or {}, "values": values or {},
        # The desk's new-customer and new-machine fields (same names, same services).
        "classes": CustomerClass.choices, "models": list(registry_selectors.product_models()),
        "sellers": seller_choices(request.user),
        "types": [(OrderType.REPAIR, OrderType.REPAIR.label), (OrderType.CONSULTATION, OrderType.CONSULTATION.label)],
    }, status=status)


@login_required
@require_GET
def draft_page(request, pk: int):
    _check(request)
    return _page(request, selectors.draft_get(request.user, pk=pk))


def _int(value: str) -> int | None:
    return int(value) if value and value.isdigit() else None


@login_required
@require_POST
def draft_complete(request, pk: int):
    _check(request)
    from aftersales.web.desk import NEW, form_errors, order_input_from_form

    post = request.POST
    errors: dict = {}
    # The desk's parsing of its c_* and m_* fields: the same new customer and machine as at the desk.
    as_desk = post.copy()
    as_desk["customer"] = post.get("customer") or NEW
    as_desk["c_phone"] = post.get("phone", "")
    desk_input = order_input_from_form(as_desk, errors)
    data = services.CompleteInput(
        order_type=post.get("order_type", OrderType.REPAIR), customer_id=_int(post.get("customer", "")),
        new_customer_name=post.get("c_name", "")[:100], phone=post.get("phone", "")[:30],
        machine_id=_int(post.get("machine", "")), symptom=post.get("symptom", "")[:4000],
        duplicate_reason=post.get("duplicate_reason", "")[:300],
        new_customer=desk_input.new_customer, new_machine=desk_input.new_machine)
    try:
        if errors:
            from aftersales.core.errors import ValidationFailed

            raise ValidationFailed(_("Nothing was saved."), fields=errors)
        order = services.draft_complete(actor=request.user, draft_id=pk, data=data)
    except DomainError as exc:
        draft = selectors.draft_get(request.user, pk=pk)
        return _page(request, draft, errors={"all": exc.message, **form_errors(exc.fields)}, values=post,
                     status=exc.status)
    messages.success(request, _("Order %(number)s recorded.") % {"number": order.number})
    return redirect("web:order", order.pk)


@login_required
@require_POST
def draft_discard(request, pk: int):
    _check(request)
    try:
        services.draft_discard(actor=request.user, draft_id=pk, note=request.POST.get("note", "").strip())
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("mailbox:draft", pk)
    messages.success(request, _("The message was discarded."))
    return redirect("mailbox:list")


@login_required
@require_GET
def draft_file(request, pk: int, attachment_id: int):
    _check(request)
    draft = selectors.draft_get(request.user, pk=pk)
    attachment = next((a for a in draft.attachments.all() if a.pk == attachment_id), None)
    if attachment is None:
        raise Http404(_("File not found."))
    return download_response(attachment)
