"""Knowledge at the point of need: the articles and solved orders that match a fault symptom, on
the call desk while the agent types and on the order page for the technicians, and the "this
solved it" button that feeds the articles' usefulness back into the ranking."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from aftersales.accounts.models import RoleCode
from aftersales.core.errors import DomainError, NotFound
from aftersales.knowledge import selectors as knowledge
from aftersales.knowledge import services as knowledge_services
from aftersales.registry import selectors as registry_selectors
from aftersales.web.orders import error_message
from aftersales.web.orders import get_order as _get_order

# Fewer characters than this are still being typed (one Chinese word is two).
MIN_SYMPTOM = 2
SHOWN = 3
FIRST_STEPS = 3


def suggestions_for(user, symptom: str, category: str = "") -> dict:
    """The top articles (with their first solution steps) and similar solved orders; empty for
    input too short to mean anything."""
    symptom = (symptom or "").strip()[:200]
    if len(symptom) < MIN_SYMPTOM:
        return {"articles": [], "orders": []}
    found = knowledge.suggest(user, symptom=symptom, category=category, limit=SHOWN)
    articles = []
    for hit in found["articles"]:
        try:
            article = knowledge.article_get(user, hit["id"])
        except NotFound:
            continue
        articles.append({**hit, "steps": [str(s) for s in article.solution_steps or []][:FIRST_STEPS]})
    return {"articles": articles, "orders": found["orders"]}


def may_use_suggestions(user) -> bool:
    """The technicians who solve the fault see the suggestions on the order page."""
    return user.has_role(RoleCode.HOTLINE_TECHNICIAN, RoleCode.FIELD_TECHNICIAN)


def order_suggestions(user, order) -> dict | None:
    if not may_use_suggestions(user):
        return None
    machine = order.machine
    return suggestions_for(user, order.symptom, machine.model.category if machine else "")


def _category(user, machine_id: str) -> str:
    if not str(machine_id).isdigit():
        return ""
    try:
        return registry_selectors.machine_get(user, pk=int(machine_id)).model.category
    except NotFound:
        return ""


@login_required
@require_GET
def symptom(request):
    """While the agent types the symptom (htmx): the suggestions for the chosen machine's category."""
    found = suggestions_for(request.user, request.GET.get("symptom", ""), _category(request.user, request.GET.get("machine", "")))
    return render(request, "web/_suggestions.html", {"suggestions": found})


@login_required
@require_POST
def solved(request, pk: int, article_id: int):
    order = _get_order(request.user, pk)
    try:
        use, created = knowledge_services.article_record_use(actor=request.user, article_id=article_id, order_id=order.pk)
    except DomainError as exc:
        messages.error(request, error_message(exc))
        return redirect("web:order", order.pk)
    if created:
        messages.success(request, _("Thank you: %(title)s is recorded as the solution of this order.")
                         % {"title": use.article.title})
    else:
        messages.info(request, _("This article was already recorded as the solution of this order."))
    return redirect("web:order", order.pk)
