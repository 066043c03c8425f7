"""服务规范 pages: my record, the roll call and the inspection on the phone, conduct cases with
their approval and appeal, training, the monthly scorecards and the catalogue. The forms post to
views that call the same services as the API."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _, gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from aftersales.core.errors import DomainError, NotFound
from aftersales.standards import cases, policies, scorecards, selectors, services
from aftersales.standards.models import (
    COMMENDATION_MEASURES,
    VIOLATION_MEASURES,
    CaseKind,
    CaseStatus,
    InspectionLine,
    Measure,
    Presence,
    Result,
)
from aftersales.web.export import Column, wants_xlsx, xlsx_response

CASE_ACTION_LABELS = {
    "approve": gettext_lazy("Approve"),
    "reject": gettext_lazy("Reject"),
    "state": gettext_lazy("Add my statement"),
    "appeal": gettext_lazy("Appeal"),
    "uphold": gettext_lazy("Dismiss the appeal"),
    "revoke": gettext_lazy("Revoke the measure"),
}
SECTIONS = {"appearance": gettext_lazy("Appearance"), "briefing": gettext_lazy("Daily briefing"),
            "conduct": gettext_lazy("Service code"), "telephone": gettext_lazy("Telephone standards")}


def _fail(request, exc) -> None:
    messages.error(request, getattr(exc, "message", "") or str(exc))
    for field, text in (getattr(exc, "fields", {}) or {}).items():
        messages.error(request, f"{field}: {text}")


@login_required
@require_GET
def home(request):
    """My standards: this month's card, my cases and inspections; a superior's links."""
    user = request.user
    month = timezone.localdate().replace(day=1)
    card = scorecards.person_cards(user, month, person_id=user.pk)[0] if user.organization_id else None
    context = {
        "card": card, "month": month,
        "my_cases": list(selectors.case_queryset(user).filter(person=user)[:20]),
        "to_acknowledge": list(selectors.inspection_queryset(user).filter(person=user, acknowledged_at=None)[:20]),
        "to_decide": [c for c in selectors.case_queryset(user).exclude(person=user)
                      .filter(status__in=[CaseStatus.PROPOSED, CaseStatus.APPEALED])[:50]
                      if cases.case_allowed_actions(user, c)],
        "may_inspect": policies.may_inspect(user),
        "teams": list(selectors.team_queryset(user).filter(leader=user)) if policies.may_inspect(user) else [],
        "repeated": selectors.repeated_failures(user) if policies.may_inspect(user) else [],
        "certificates": list(selectors.certificates_of(user)[:20]),
        "today": timezone.localdate(),
    }
    return render(request, "standards/home.html", context)


@login_required
@require_GET
def catalogue(request):
    current = services.catalogue_ensure()
    data = current.data
    sections = [(code, label, [i for i in data.get("items", []) if i["section"] == code]) for code, label in SECTIONS.items()]
    return render(request, "standards/catalogue.html", {"catalogue": current, "sections": sections, "data": data})


# --- roll call (例会点名) -----------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def rollcall(request):
    """The shift leader's teams; opening today's briefing goes to its roll call."""
    teams = list(selectors.team_queryset(request.user))
    if request.method == "POST":
        try:
            briefing = services.briefing_open(actor=request.user, team_id=int(request.POST.get("team_id", "0")),
                                              topics=request.POST.get("topics", ""))
        except (DomainError, ValueError) as exc:
            _fail(request, exc)
            return redirect("standards:rollcall")
        return redirect("standards:briefing", pk=briefing.pk)
    today = timezone.localdate()
    opened = selectors.briefings_of_day(teams, today)
    return render(request, "standards/rollcall.html", {"teams": [(t, opened.get(t.pk)) for t in teams],
                                                       "today": today})


@login_required
@require_GET
def briefing(request, pk: int):
    b = _briefing_or_404(request, pk)
    return render(request, "standards/briefing.html", {"briefing": b, "rows": selectors.roll_call(b),
                                                       "statuses": Presence.choices,
                                                       "may_run": services._may_run_briefing(request.user, b.team)})


def _briefing_or_404(request, pk):
    try:
        return selectors.briefing_get(request.user, pk)
    except NotFound:
        raise Http404 from None


@login_required
@require_POST
def briefing_mark(request, pk: int, person_id: int):
    """One tap: the row comes back (htmx) with the mark and the month's late/absent count."""
    try:
        services.attendance_mark(actor=request.user, briefing_id=pk, person_id=person_id,
                                 status=request.POST.get("status", ""))
    except DomainError as exc:
        if request.headers.get("HX-Request"):
            return render(request, "standards/_alert.html", {"text": str(exc)}, status=getattr(exc, "status", 400))
        _fail(request, exc)
        return redirect("standards:briefing", pk=pk)
    b = _briefing_or_404(request, pk)
    if request.headers.get("HX-Request"):
        row = next(r for r in selectors.roll_call(b) if r["person"].pk == person_id)
        return render(request, "standards/_roll_row.html", {"r": row, "briefing": b, "statuses": Presence.choices,
                                                            "may_run": True})
    return redirect("standards:briefing", pk=pk)


@login_required
@require_POST
def briefing_topics(request, pk: int):
    b = _briefing_or_404(request, pk)
    try:
        services.briefing_open(actor=request.user, team_id=b.team_id, day=b.day, topics=request.POST.get("topics", ""))
        messages.success(request, _("Saved."))
    except DomainError as exc:
        _fail(request, exc)
    return redirect("standards:briefing", pk=pk)


# --- inspections (检查) -------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def inspect(request):
    """The checklist on the phone: choose the person, then pass / fail / n.a. per item, a photo
    where something is wrong, a note; the score is computed when saved."""
    if not policies.may_inspect(request.user):
        raise Http404
    catalogue = services.catalogue_ensure()
    data = request.POST if request.method == "POST" else request.GET
    gender = data.get("gender", "") if data.get("gender", "") in ("male", "female") else ""
    section = data.get("section", "appearance") if data.get("section") in SECTIONS else "appearance"
    items = selectors.checklist(catalogue.data, section=section, gender=gender)
    error = None
    if request.method == "POST":
        person = data.get("person_id") or None
        results = {i["code"]: {"result": data.get(f"r-{i['code']}", ""), "note": data.get(f"n-{i['code']}", "")}
                   for i in items}
        photos = {i["code"]: request.FILES[f"p-{i['code']}"] for i in items if f"p-{i['code']}" in request.FILES}
        try:
            inspection = services.inspection_record(
                actor=request.user, person_id=int(person) if person else None, workplace=data.get("workplace", ""),
                section=section, gender=gender, results=results, note=data.get("note", ""), photos=photos)
        except (DomainError, ValueError) as exc:
            error = exc
        else:
            messages.success(request, _("Inspection saved: %(score)s points.") % {"score": inspection.score})
            return redirect("standards:inspection", pk=inspection.pk)
    return render(request, "standards/inspect.html", {
        "catalogue": catalogue, "items": items, "people": selectors.people_managed(request.user),
        "gender": gender, "section": section, "sections": SECTIONS.items(), "results": Result.choices,
        "typed": data, "error": error, "field_errors": getattr(error, "fields", {}) if error else {}},
        status=getattr(error, "status", 422) if error else 200)


@login_required
@require_GET
def inspection(request, pk: int):
    try:
        i = selectors.inspection_get(request.user, pk)
    except NotFound:
        raise Http404 from None
    return render(request, "standards/inspection.html", {"inspection": i, "lines": list(i.lines.all()),
                                                         "may_ack": i.person_id == request.user.pk and not i.acknowledged_at})


@login_required
@require_POST
def inspection_ack(request, pk: int):
    try:
        services.inspection_acknowledge(actor=request.user, inspection_id=pk, remark=request.POST.get("remark", ""))
        messages.success(request, _("Acknowledged."))
    except DomainError as exc:
        _fail(request, exc)
    return redirect("standards:inspection", pk=pk)


@login_required
@require_GET
def inspection_photo(request, pk: int, line_id: int):
    """A photo leaves as a download with its sniffed type (see core.files), to whoever may see the
    inspection."""
    try:
        i = selectors.inspection_get(request.user, pk)
    except NotFound:
        raise Http404 from None
    line = InspectionLine.objects.filter(inspection=i, pk=line_id).exclude(photo="").first()
    if line is None:
        raise Http404
    response = FileResponse(line.photo.open("rb"), as_attachment=True, filename=f"{line.code}{line.extension}",
                            content_type=line.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- conduct: the hint while writing, and cases -------------------------------------------------

@login_required
@require_POST
def check(request):
    """The hint under a text field (htmx): the forbidden phrases the text holds, and the words of
    the service language to use instead. Nothing is recorded until the text is saved."""
    # The field sends only itself (hx-params), whatever its name (summary, solution, note ...).
    text = "\n".join(v for k, v in request.POST.items() if k != "csrfmiddlewaretoken")[:5000]
    hits = cases.conduct_check(text)
    language = selectors.catalogue_data().get("service_language", [])[:3] if hits else []
    return render(request, "standards/_hint.html", {"hits": hits, "language": language})


@login_required
@require_GET
def case_list(request):
    show = request.GET.get("status", "")
    qs = selectors.case_queryset(request.user)
    if show in CaseStatus.values:
        qs = qs.filter(status=show)
    return render(request, "standards/cases.html", {"cases": list(qs[:200]), "show": show,
                                                    "statuses": CaseStatus.choices,
                                                    "may_propose": policies.may_inspect(request.user)})


@login_required
@require_http_methods(["GET", "POST"])
def case_new(request):
    if not policies.may_inspect(request.user):
        raise Http404
    data = request.POST if request.method == "POST" else request.GET
    error = None
    if request.method == "POST":
        try:
            ints = {k: int(data[k]) for k in ("order_id", "inspection_id") if data.get(k)}
            case = cases.case_propose(
                actor=request.user, kind=data.get("kind", ""), person_id=int(data.get("person_id") or 0),
                measure=data.get("measure", ""), description=data.get("description", ""), rule=data.get("rule", ""),
                points=int(data.get("points") or 0), fine=data.get("fine") or "0", **ints)
        except (DomainError, ValueError) as exc:
            error = exc
        else:
            messages.success(request, _("Case %(number)s proposed; it waits for approval.") % {"number": case.number})
            return redirect("standards:case", pk=case.pk)
    return render(request, "standards/case_new.html", {
        "people": selectors.people_managed(request.user), "rules": selectors.rules(selectors.catalogue_data()),
        "kinds": CaseKind.choices,
        "measures": [(m, Measure(m).label) for m in (*VIOLATION_MEASURES, *COMMENDATION_MEASURES)],
        "typed": data, "error": error, "field_errors": getattr(error, "fields", {}) if error else {}},
        status=getattr(error, "status", 422) if error else 200)


@login_required
@require_GET
def case_page(request, pk: int):
    try:
        case = selectors.case_get(request.user, pk)
    except NotFound:
        raise Http404 from None
    return render(request, "standards/case.html", {
        "case": case, "events": list(case.events.select_related("actor")),
        "actions": [(a, CASE_ACTION_LABELS[a]) for a in cases.case_allowed_actions(request.user, case)]})


@login_required
@require_POST
def case_action(request, pk: int, action: str):
    try:
        cases.case_act(actor=request.user, case_id=pk, version=int(request.POST.get("version", "0")),
                          action=action, text=request.POST.get("text", ""))
        messages.success(request, _("Saved."))
    except (DomainError, ValueError) as exc:
        _fail(request, exc)
    return redirect("standards:case", pk=pk)


# --- training (培训考核) -------------------------------------------------------------------------

@login_required
@require_GET
def training(request):
    return render(request, "standards/training.html", {
        "courses": list(selectors.course_queryset(request.user)),
        "certificates": list(selectors.certificates_of(request.user)), "today": timezone.localdate()})


@login_required
@require_http_methods(["GET", "POST"])
def exam(request, pk: int):
    course = selectors.course_queryset(request.user).filter(pk=pk).first()
    if course is None:
        raise Http404
    if request.method == "POST":
        try:
            answers = [int(request.POST.get(f"q{n}", "-1")) for n in range(len(course.questions))]
            attempt = services.exam_submit(actor=request.user, course_id=pk, answers=answers)
        except (DomainError, ValueError) as exc:
            _fail(request, exc)
        else:
            if attempt.passed:
                messages.success(request, _("Passed with %(score)s%%: the certificate is recorded.") % {"score": attempt.score})
            else:
                messages.warning(request, _("%(score)s%%: below the pass mark of %(mark)s%%.") % {
                    "score": attempt.score, "mark": course.pass_mark})
            return redirect("standards:training")
    return render(request, "standards/exam.html", {"course": course,
                                                   "questions": list(enumerate(course.questions))})


# --- scorecards (月度考核) ----------------------------------------------------------------------

CARD_COLUMNS = (
    Column(gettext_lazy("Person"), lambda c: str(c.person), 16),
    Column(gettext_lazy("Organization"), lambda c: c.person.organization.name, 18),
    Column(gettext_lazy("Team"), lambda c: c.team, 12),
    Column(gettext_lazy("Rank in team"), lambda c: c.rank, 8),
    Column(gettext_lazy("Score"), lambda c: c.score, 8),
    Column(gettext_lazy("Orders taken"), lambda c: c.orders_taken, 8),
    Column(gettext_lazy("Orders served"), lambda c: c.orders_served, 8),
    Column(gettext_lazy("Rating"), lambda c: c.rating, 8),
    Column(gettext_lazy("Complaints"), lambda c: c.complaints, 8),
    Column(gettext_lazy("Closed as owner"), lambda c: c.owned_closed, 8),
    Column(gettext_lazy("With owner's follow-up"), lambda c: c.owned_followed, 8),
    Column(gettext_lazy("Inspections"), lambda c: c.inspections, 8),
    Column(gettext_lazy("Inspection score"), lambda c: c.inspection_score, 8),
    Column(gettext_lazy("Present"), lambda c: c.present, 8),
    Column(gettext_lazy("Late"), lambda c: c.late, 8),
    Column(gettext_lazy("Absent"), lambda c: c.absent, 8),
    Column(gettext_lazy("On leave"), lambda c: c.leave, 8),
    Column(gettext_lazy("Violations"), lambda c: c.violations, 8),
    Column(gettext_lazy("Commendations"), lambda c: c.commendations, 8),
    Column(gettext_lazy("Points"), lambda c: c.points, 8),
    Column(gettext_lazy("Phrase hits"), lambda c: c.phrase_hits, 8),
    Column(gettext_lazy("Certificates"), lambda c: c.certificates, 8),
)


@login_required
@require_GET
def scorecard_list(request):
    month = scorecards.month_of(request.GET.get("month"))
    cards = scorecards.person_cards(request.user, month)
    if wants_xlsx(request):
        return xlsx_response(filename=f"scorecards-{month:%Y-%m}", title=_("Scorecards %(month)s") % {
            "month": f"{month:%Y-%m}"}, columns=CARD_COLUMNS, rows=cards)
    orgs = scorecards.organization_cards(request.user, month, cards) if len(cards) > 1 else []
    prev = (month.replace(day=1) - date.resolution).replace(day=1)
    return render(request, "standards/scorecards.html", {"cards": cards, "orgs": orgs, "month": month,
                                                         "prev": prev, "export_query": f"month={month:%Y-%m}&export=xlsx"})
