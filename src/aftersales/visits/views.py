"""回访 pages: the visiting agent's worklist and one visit with its scripted questionnaire and the
three outcomes. The forms post to views that call visits.services, as the API does."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from aftersales.core.errors import DomainError, NotFound
from aftersales.registry.models import Machine
from aftersales.service.services.common import SHANGHAI, _shanghai_today
from aftersales.visits import policies, selectors, services
from aftersales.visits.api import visit_out


def _check(request) -> None:
    if not policies.may_visit(request.user):
        raise PermissionDenied(_("Return visits are made by the service center."))


@login_required
@require_GET
def worklist(request):
    _check(request)
    user, today, now = request.user, _shanghai_today(), timezone.now()
    whose = request.GET.get("whose", "all")
    whose = whose if whose in ("all", "mine", "unassigned") else "all"
    due = [visit_out(user, t) for t in selectors.worklist(user, on=today, now=now, whose=whose)[:200]]
    later = [visit_out(user, t) for t in selectors.waiting(user, on=today, now=now, whose=whose)[:100]]
    tomorrow = today + timedelta(days=1)
    planned = [visit_out(user, t) for t in selectors.planned(user, on=tomorrow, whose=whose)[:200]]
    return render(request, "visits/worklist.html", {"due": due, "later": later, "today": today, "whose": whose,
                                                    "me": user.pk, "planned": planned, "tomorrow": tomorrow})


def _get(request, pk: int):
    try:
        return selectors.visit_get(request.user, pk)
    except NotFound as exc:
        raise Http404(exc.message) from None


def _visit_page(request, task, *, status=200, **extra):
    questions = selectors.questions_for(task.kind)
    machines = list(Machine.objects.filter(owner_id=task.customer_id).select_related("model").order_by("serial_number"))
    return render(request, "visits/visit.html", {
        "task": task, "v": visit_out(request.user, task), "questions": questions, "machines": machines,
        "answers": list(task.answers.all()), "attempts": list(task.attempt_log.select_related("by")),
        "agents": selectors.visiting_agents(request.user),
        "default_retry": timezone.localtime(timezone.now() + timedelta(hours=2), SHANGHAI).strftime("%Y-%m-%dT%H:%M"),
        **extra}, status=status)


@login_required
@require_GET
def visit(request, pk: int):
    _check(request)
    return _visit_page(request, _get(request, pk))


@login_required
@require_POST
def visit_act(request, pk: int, outcome: str):
    _check(request)
    task = _get(request, pk)
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = -1
    note = request.POST.get("note", "")[:2000]
    try:
        if outcome == "reached":
            answers = {k[2:]: v for k, v in request.POST.items() if k.startswith("q_")}
            machine_id = request.POST.get("machine_id", "")
            done = services.visit_reach(actor=request.user, task_id=pk, version=version, answers=answers,
                                        new_fault=request.POST.get("new_fault", "")[:4000],
                                        machine_id=int(machine_id) if machine_id.isdigit() else None, note=note)
            text = _("Visit recorded.")
            if done.complaint_id:
                text += " " + _("Complaint %(number)s opened.") % {"number": done.complaint.number}
            if done.repair_id:
                text += " " + _("Repair order %(number)s for the new fault.") % {"number": done.repair.number}
        elif outcome == "not-reached":
            raw = request.POST.get("retry_at", "")
            try:
                retry_at = datetime.fromisoformat(raw) if raw else None
            except ValueError:
                retry_at = None
            services.visit_not_reached(actor=request.user, task_id=pk, version=version, retry_at=retry_at, note=note)
            text = _("Recorded as not reached.")
        elif outcome == "refused":
            services.visit_refuse(actor=request.user, task_id=pk, version=version, note=note)
            text = _("Recorded as refused.")
        else:
            raise Http404()
    except DomainError as exc:
        task.refresh_from_db()
        return _visit_page(request, task, status=exc.status, error=exc.message, errors=exc.fields, failed=outcome,
                           posted=request.POST)
    messages.success(request, text)
    return redirect("visits:worklist")


@login_required
@require_POST
def visit_assign(request, pk: int):
    """Claim (``assignee=me``), give back (``assignee=`` empty) or, for a supervisor, assign to an agent."""
    _check(request)
    raw = request.POST.get("assignee", "")
    assignee_id = request.user.pk if raw == "me" else int(raw) if raw.isdigit() else None
    try:
        services.visit_assign(actor=request.user, task_id=pk, assignee_id=assignee_id)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Visit taken.") if assignee_id == request.user.pk else
                         _("Visit assigned.") if assignee_id else _("Visit given back to the shared list."))
    back = request.POST.get("next", "")
    return redirect(back if back.startswith("/visits/") else "visits:worklist")
