"""质量问题单 pages: the technical centre's list of quality issues and one issue with its actions,
linked orders and service campaigns. The forms post to views that call the same services as the API."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _, gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from aftersales.accounts.models import NETWORK_WIDE_KINDS, RoleCode, User
from aftersales.core.errors import DomainError
from aftersales.quality import policies, selectors, services
from aftersales.quality.models import IssueStatus, QualityScan
from aftersales.warranty.parts import part_label

ACTION_LABELS = {
    "analyse": gettext_lazy("Start the analysis"),
    "countermeasure": gettext_lazy("Record the countermeasure"),
    "verify": gettext_lazy("Record the verification"),
    "close": gettext_lazy("Close the issue"),
}
EVENT_LABELS = {
    **ACTION_LABELS,
    "detected": gettext_lazy("Raised by the batch alarm"),
    "rescanned": gettext_lazy("Figures updated by the batch alarm"),
    "reported": gettext_lazy("Reported"),
    "campaign_started": gettext_lazy("Service campaign started"),
}


def _check(request) -> None:
    if not policies.may_see_quality(request.user):
        raise PermissionDenied(_("Quality issues are worked on by the technical centre and supervisors."))


@login_required
@require_GET
def issue_list(request):
    _check(request)
    show = request.GET.get("status", "active")
    qs = selectors.issue_queryset(request.user)
    qs = qs.exclude(status=IssueStatus.CLOSED) if show not in IssueStatus.values else qs.filter(status=show)
    issues = list(qs[:200])
    for issue in issues:
        issue.component_label = part_label(issue.component)
    last_scan = QualityScan.objects.exclude(finished_at=None).first()
    return render(request, "quality/list.html", {"issues": issues, "show": show, "statuses": IssueStatus.choices,
                                                 "last_scan": last_scan})


@login_required
@require_GET
def issue_page(request, pk: int):
    _check(request)
    issue = selectors.issue_get(request.user, pk)
    return render(request, "quality/issue.html", _issue_context(request, issue))


def _issue_context(request, issue, **extra) -> dict:
    # The campaign's orders are the service centre's: offer the people there who may record orders.
    owners = User.objects.filter(is_active=True, roles__code__in=[RoleCode.INFORMATION_COORDINATOR, RoleCode.CALL_AGENT,
                                                                  RoleCode.SUPERVISOR],
                                 organization__kind__in=NETWORK_WIDE_KINDS).distinct().order_by("username")
    return {
        "issue": issue, "component_label": part_label(issue.component),
        "actions": [(a, ACTION_LABELS[a]) for a in services.issue_allowed_actions(request.user, issue)],
        "events": [(e, EVENT_LABELS.get(e.action, e.action)) for e in issue.events.select_related("actor")],
        "orders": list(issue.orders.select_related("customer", "machine").order_by("-created_at")[:100]),
        "campaigns": [(c, selectors.campaign_progress(c)) for c in issue.campaigns.select_related("owner")],
        "may_work": policies.may_work_on_quality(request.user) and issue.status != IssueStatus.CLOSED,
        "owners": owners, **extra,
    }


@login_required
@require_POST
def issue_action(request, pk: int, action: str):
    _check(request)
    try:
        version = int(request.POST.get("version", ""))
        services.issue_act(actor=request.user, issue_id=pk, version=version, action=action,
                           text=request.POST.get("text", ""))
    except (DomainError, ValueError) as exc:
        issue = selectors.issue_get(request.user, pk)
        fields = getattr(exc, "fields", {}) or {}
        return render(request, "quality/issue.html", _issue_context(
            request, issue, error=getattr(exc, "message", str(exc)), field_errors=fields, open_action=action,
            typed=request.POST.get("text", "")), status=getattr(exc, "status", 422))
    messages.success(request, _("Saved."))
    return redirect("quality:issue", pk=pk)


@login_required
@require_POST
def campaign_start(request, pk: int):
    _check(request)
    owner = request.POST.get("owner_id") or None
    try:
        campaign = services.campaign_start(actor=request.user, issue_id=pk, title=request.POST.get("title", ""),
                                           instructions=request.POST.get("instructions", ""),
                                           owner_id=int(owner) if owner else None)
    except (DomainError, ValueError) as exc:
        issue = selectors.issue_get(request.user, pk)
        return render(request, "quality/issue.html", _issue_context(
            request, issue, error=getattr(exc, "message", str(exc)), field_errors=getattr(exc, "fields", {}) or {},
            campaign_typed=request.POST), status=getattr(exc, "status", 422))
    progress = selectors.campaign_progress(campaign)
    messages.success(request, _("Campaign started: %(created)s of %(total)s orders made; the worker makes the rest.")
                     % progress)
    return redirect("quality:issue", pk=pk)
