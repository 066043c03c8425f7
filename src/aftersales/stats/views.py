"""统计中心 pages: the dashboard (figures, charts, the process map) and the drill-down to the
orders behind a figure. Both read through the same selectors and engine as the API."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _, gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from aftersales.core.errors import ValidationFailed
from aftersales.service import selectors as order_selectors
from aftersales.service import workflow
from aftersales.core.choices import ProductCategory, ServiceLevel
from aftersales.service.models import Channel, OrderStatus, OrderType
from aftersales.stats import charts, engine, policies, reports, selectors, services
from aftersales.web import export
from aftersales.stats.labels import MEASURE_LABELS, UNIT_LABELS
from aftersales.stats.models import AggregateState

FILTER_NAMES = ("organization", "province", "city", "model", "category", "service_level")
GROUP_LABELS = {
    "none": gettext_lazy("No grouping"),
    "organization": gettext_lazy("Serving organization"),
    "province": gettext_lazy("Province"),
    "model": gettext_lazy("Product model"),
    "category": gettext_lazy("Product category"),
    "order_type": gettext_lazy("Order type"),
    "channel": gettext_lazy("Channel"),
    "service_level": gettext_lazy("Service level"),
    "city": gettext_lazy("City"),
    "person": gettext_lazy("Technician"),
    "week": gettext_lazy("Week"),
    "month": gettext_lazy("Month"),
}
# The columns of the table per group, in the order of the service flow.
TABLE_MEASURES = ("intake", "handoff", "handoff_attainment", "dispatch_acceptance", "arrival", "fix", "turnaround",
                  "compliance_30wd_rate", "first_time_fix_rate", "repeat_repair_30_rate", "repeat_repair_90_rate",
                  "phone_resolution_rate", "escalation_rate", "rating", "complaint_rate")
TILES = ("intake", "handoff_attainment", "arrival", "compliance_30wd_rate", "first_time_fix_rate",
         "repeat_repair_30_rate", "rating", "complaint_rate")
DRILL_LIMIT = 500
RATE_CHART = ("handoff_attainment", "compliance_30wd_rate", "first_time_fix_rate", "repeat_repair_30_rate",
              "repeat_repair_90_rate", "phone_resolution_rate", "escalation_rate", "complaint_rate")


class StatsFilter(forms.Form):
    """The dashboard's filters; the organization list is the reader's own (a partner sees its own)."""

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        from aftersales.accounts.selectors import organization_queryset
        from aftersales.registry.selectors import product_models

        orgs = organization_queryset(user).order_by("name").values_list("pk", "name") if user is not None else []
        self.fields["organization"].choices = [("", _("Whole network")), *[(str(pk), name) for pk, name in orgs]]
        self.fields["model"].choices = [("", _("All models")),
                                        *[(m.code, f"{m.code} {m.name}") for m in product_models(active_only=False)]]

    date_from = forms.DateField(label=gettext_lazy("From"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    order_type = forms.ChoiceField(label=gettext_lazy("Order type"), required=False,
                                   choices=[("", gettext_lazy("All types")), *OrderType.choices])
    channel = forms.ChoiceField(label=gettext_lazy("Channel"), required=False,
                                choices=[("", gettext_lazy("All channels")), *Channel.choices])
    organization = forms.ChoiceField(label=gettext_lazy("Organization (with those below it)"), required=False)
    province = forms.CharField(label=gettext_lazy("Province"), required=False, max_length=20)
    city = forms.CharField(label=gettext_lazy("City"), required=False, max_length=30)
    model = forms.ChoiceField(label=gettext_lazy("Product model"), required=False)
    category = forms.ChoiceField(label=gettext_lazy("Product category"), required=False,
                                 choices=[("", gettext_lazy("All categories")), *ProductCategory.choices])
    service_level = forms.ChoiceField(label=gettext_lazy("Service level"), required=False,
                                      choices=[("", gettext_lazy("All levels")), *ServiceLevel.choices])
    group_by = forms.ChoiceField(label=gettext_lazy("Group by"), required=False, choices=list(GROUP_LABELS.items()))

    def filters(self) -> dict:
        """The filters of selectors.filter_orders / aggregate_sums that are set."""
        return {name: self.cleaned_data.get(name) for name in FILTER_NAMES if self.cleaned_data.get(name)}


def _check(request) -> None:
    if not policies.may_read_stats(request.user):
        raise PermissionDenied(_("Statistics are for members of the service network with a role."))


def _period(form: StatsFilter):
    """(start, end, date_from, date_to) or None with the form's errors filled in."""
    if not form.is_valid():
        return None
    try:
        return selectors.period(form.cleaned_data["date_from"], form.cleaned_data["date_to"],
                                today=timezone.localdate())
    except ValidationFailed as exc:
        for name, message in exc.fields.items():
            form.add_error(name if name in form.fields else None, message)
        return None


def _cell(figure: engine.Figure) -> str:
    if figure.value is None:
        return "–"
    if figure.unit == "ratio":
        return f"{figure.value * 100:.1f}%"
    shown = figure.median if figure.median is not None else figure.value
    return f"{charts._num(shown)} {UNIT_LABELS.get(figure.unit, '')}".strip()


def _drill_link(params: dict | str, measure: str, group: str | None = None) -> str | None:
    """``params``: the page's filters, or them already encoded (``_encoded``: the table has hundreds
    of cells, each a link with the same filters)."""
    if measure.removesuffix("_attainment") not in engine.DRILLABLE and not measure.startswith("move:"):
        return None
    base = params if isinstance(params, str) else _encoded(params)
    tail = {"measure": measure} if group is None else {"measure": measure, "group": group}
    return "?" + (base + "&" if base else "") + urlencode(tail)


def _encoded(params: dict) -> str:
    return urlencode({k: v for k, v in params.items() if v})


@login_required
@require_GET
def dashboard(request):
    _check(request)
    context = _report(request)
    if context.get("tiles") is None:
        return render(request, "stats/dashboard.html", context, status=422)
    if export.wants_xlsx(request):
        return reports.dashboard_xlsx(context)
    query = request.GET.copy()
    query.pop("export", None)
    context["export_href"] = export.href(request)
    if context["from_aggregates"] and (context["date_to"] - context["date_from"]).days < selectors.AGGREGATE_FROM_DAYS:
        # A short period can be walked order by order for the exact medians, on request only.
        context["events_href"] = "?" + urlencode({**query.dict(), "source": "events"})
    context["print_href"] = reverse("stats:print") + ("?" + query.urlencode() if query else "")
    context["subscribed"] = set(request.user.report_subscriptions.values_list("frequency", flat=True))
    today = timezone.localdate()
    context["periods"] = [(label, "?" + urlencode({"date_from": (today - timedelta(days=days - 1)).isoformat(),
                                                   "date_to": today.isoformat(), "group_by": context["group_by"]}))
                          for label, days in ((_("Last 30 days"), 30), (_("Last 12 months"), 365))]
    return render(request, "stats/dashboard.html", context)


@login_required
@require_GET
def dashboard_print(request):
    """The dashboard on paper (A4 landscape from the browser's print dialogue): the figures, the
    tables and the charts, without the filters and the forms."""
    _check(request)
    context = _report(request)
    if context.get("tiles") is None:
        return render(request, "stats/dashboard.html", context, status=422)
    context.update(company=settings.COMPANY_NAME, printed_at=timezone.now(),
                   back=reverse("stats:dashboard") + ("?" + request.GET.urlencode() if request.GET else ""))
    return render(request, "stats/print.html", context)


def _report(request) -> dict:
    """What the dashboard, its print view and its workbook show; ``tiles`` is None when the
    filters are invalid (the form carries the errors)."""
    form = StatsFilter(request.GET or None, user=request.user)
    if not request.GET or set(request.GET) <= {"export", "source"}:
        form = StatsFilter({"group_by": "organization"}, user=request.user)
    period = _period(form)
    context = {"form": form, "labels": MEASURE_LABELS, "tiles": None}
    if period is None:
        return context
    start, end, date_from, date_to = period
    group_by = form.cleaned_data.get("group_by") or "none"
    order_type = form.cleaned_data.get("order_type") or None
    channel = form.cleaned_data.get("channel") or None
    span_days = (date_to - date_from).days + 1
    bucket = "week" if span_days <= 92 else "month"
    filters = form.filters()
    # The page reads the aggregates whenever they can answer, whatever the period: computed from the
    # events, a month of a large network is a walk over hundreds of thousands of orders per request
    # (44 s at 8,000,000 orders). ?source=events asks for the exact medians (bounded by MAX_ORDERS).
    source = "events" if request.GET.get("source") == "events" else "aggregates"
    from_aggregates = selectors.use_aggregates(date_from, date_to, source, channel, filters, group_by)
    if from_aggregates:
        # A long period: the daily aggregates (means), not every order's timeline.
        sums = selectors.aggregate_sums(request.user, date_from=date_from, date_to=date_to, group_by=group_by,
                                        order_type=order_type, bucket=bucket, channel=channel, filters=filters)
        overall = engine.figures_from_sums(sums["overall"])
        table = {g: engine.figures_from_sums(s) for g, s in sums["groups"].items()} if group_by != "none" else {}
        series = sorted((label, float(s.get("intake", (0, 0))[0])) for label, s in sums["buckets"].items())
        pm = selectors.process_map(request.user, date_from=date_from, date_to=date_to, start=start, end=end,
                                   order_type=order_type, channel=channel, source="aggregates", filters=filters,
                                   sums=sums["overall"])
        order_count = overall["intake"].n
        state = AggregateState.objects.filter(pk=1).values_list("refreshed_at", "rebuilt_at").first()
        context["counted_at"] = max((t for t in (state or ()) if t), default=None)
    else:
        traces = list(selectors.traces(request.user, start=start, end=end, group_by=group_by, order_type=order_type,
                                       channel=channel, filters=filters))
        overall = engine.summary(traces)
        table = engine.kpis(traces) if group_by != "none" else {}
        over_time = engine.kpis([replace(t, group=selectors.group_label(bucket, None, t.created_at)) for t in traces])
        series = sorted((label, m["intake"].value) for label, m in over_time.items())
        pm = engine.process_map(traces)
        order_count = len(traces)
    params = {"date_from": date_from.isoformat(), "date_to": date_to.isoformat(), "order_type": order_type or "",
              "channel": channel or "", "group_by": group_by, **filters}
    params = _encoded(params)  # encoded once for every link of the page
    tiles = [{"label": MEASURE_LABELS[m], "value": _cell(overall[m]), "n": overall[m].n,
              "link": _drill_link(params, m)} for m in TILES if m in overall]

    rows = []
    for group, measures in sorted(table.items(), key=lambda kv: -kv[1]["intake"].n):
        rows.append({"group": _group_name(group_by, group), "cells": [
            {"value": _cell(measures[m]), "n": measures[m].n, "link": _drill_link(params, m, group)}
            for m in TABLE_MEASURES]})
    status_labels = dict(OrderStatus.choices) | {"start": _("Start"), "end": _("End")}
    context.update({
        "tiles": tiles, "rows": rows, "columns": [MEASURE_LABELS[m] for m in TABLE_MEASURES],
        "group_label": GROUP_LABELS[group_by], "orders": order_count, "from_aggregates": from_aggregates, "date_from": date_from, "date_to": date_to,
        "intake_chart": charts.columns(series, title=_("Orders received per %(bucket)s") % {"bucket": GROUP_LABELS[bucket]}),
        "group_chart": charts.bars([(r["group"], r["cells"][0]["n"]) for r in rows[:15]],
                                   title=_("Orders received by %(group)s") % {"group": GROUP_LABELS[group_by]}),
        "pm": pm, "status_labels": status_labels,
        "pm_chart": charts.process_map(pm, order=list(engine.DESIGNED_PATHS["repair"]) + ["escalated", "investigating",
                                                                                           "awaiting_approval", "cancelled"],
                                       labels=status_labels, title=_("Process map"),
                                       slow_label=_("Amber: the slowest moves")),
        "pm_edges": [_edge_row(e, status_labels, params) for e in pm.edges],
        "pm_slowest": [_edge_row(e, status_labels, params) for e in pm.slowest],
        "deviations": [{"code": d.code, "label": DEVIATION_LABELS.get(d.code, d.code), "count": d.count,
                        "examples": d.examples} for d in pm.deviations],
    })
    context["definitions"] = _definitions(status_labels)
    # 回访满意度 beside the ratings (the visits app's figures for the same period and reader).
    from aftersales.stats import measures as extra

    visits = extra.visit_satisfaction(request.user, date_from=date_from, date_to=date_to)[""]
    context["tiles"].append({"label": MEASURE_LABELS["visit_satisfaction"], "value": _cell(visits["visit_satisfaction"]),
                             "n": visits["visit_satisfaction"].n, "link": None})
    drill = reverse("stats:drill")
    context["chart_data"] = {
        "intake": {"kind": "columns", "title": str(_("Orders received per %(bucket)s") % {"bucket": GROUP_LABELS[bucket]}),
                   "labels": [label for label, _v in series], "values": [v for _l, v in series], "integer": True},
        "groups": {"kind": "bars", "title": str(_("Orders received by %(group)s") % {"group": GROUP_LABELS[group_by]}),
                   "labels": [r["group"] for r in rows[:15]], "values": [r["cells"][0]["n"] for r in rows[:15]],
                   "integer": True,
                   "links": [drill + r["cells"][0]["link"] if r["cells"][0]["link"] else None for r in rows[:15]]},
        "rates": {"kind": "bars", "title": str(_("Rates in the period (%)")), "unit": "%",
                  "labels": [str(MEASURE_LABELS[m]) for m in RATE_CHART if overall.get(m) and overall[m].n],
                  "values": [round(overall[m].value * 100, 1) for m in RATE_CHART if overall.get(m) and overall[m].n],
                  "links": [drill + _drill_link(params, m) if _drill_link(params, m) else None
                            for m in RATE_CHART if overall.get(m) and overall[m].n]},
    }
    context["intake_rows"] = series
    context["rate_rows"] = [(MEASURE_LABELS[m], _cell(overall[m]), overall[m].n, _drill_link(params, m))
                            for m in RATE_CHART if m in overall]
    context.update({"overall": overall, "table": table, "series": series, "group_by": group_by,
                    "bucket_label": GROUP_LABELS[bucket], "table_measures": TABLE_MEASURES})
    return context


def _edge_row(edge: dict, status_labels: dict, params: dict) -> dict:
    """A move of the process map with its labels and, between two statuses, the link to its orders."""
    framed = edge["source"] == engine.START or edge["target"] == engine.END
    return {**edge, "source_label": status_labels.get(edge["source"], edge["source"]),
            "target_label": status_labels.get(edge["target"], edge["target"]),
            "link": None if framed else _drill_link(params, f"move:{edge['source']}>{edge['target']}")}


def _definitions(status_labels: dict) -> list[dict]:
    """The duration measures in words, read from the engine's own table (so the page cannot drift)."""
    def action(code: str) -> str:
        t = workflow.transition(code)
        return str(t.label) if t else str(_("Order received"))
    rows = []
    for span in engine.SPANS:
        end = [action(a) for a in sorted(span.end)] + [str(status_labels.get(s, s)) for s in sorted(span.end_statuses)]
        rows.append({"label": MEASURE_LABELS[span.name], "unit": UNIT_LABELS[span.unit],
                     "start": " / ".join(action(a) for a in sorted(span.start)), "end": " / ".join(end)})
    return rows


DEVIATION_LABELS = {
    "skipped_hotline": gettext_lazy("Dispatched without the hotline technician"),
    "dispatch_ping_pong": gettext_lazy("Dispatched more than once"),
    "technician_declined": gettext_lazy("Declined by a technician"),
    "complaint_reopened": gettext_lazy("Complaint resolution rejected by the customer"),
    "escalated_repeatedly": gettext_lazy("Escalated more than once"),
}


def _group_name(group_by: str, group: str) -> str:
    if group_by == "order_type":
        return str(dict(OrderType.choices).get(group, group))
    if group_by == "channel":
        return str(dict(Channel.choices).get(group, group))
    if group == "-":
        return _("Not assigned")
    return group


@login_required
@require_GET
def drill(request):
    """The orders behind one figure of the dashboard, slowest first."""
    _check(request)
    form = StatsFilter(request.GET, user=request.user)
    measure = request.GET.get("measure", "")
    period = _period(form)
    base = measure.removesuffix("_attainment")
    move = measure.removeprefix("move:").partition(">") if measure.startswith("move:") else None
    statuses = dict(OrderStatus.choices)
    if move and not (move[0] in statuses and move[2] in statuses):
        move = None
        measure = base = ""
    if base not in engine.DRILLABLE and not measure.startswith("intake") and not move:
        form.add_error(None, _("Pick a figure of the dashboard."))
        period = None
    label = (f"{statuses[move[0]]} → {statuses[move[2]]}" if move else MEASURE_LABELS.get(base, measure))
    context = {"form": form, "measure_label": label}
    if period is None:
        return render(request, "stats/drill.html", context, status=422)
    start, end, date_from, date_to = period
    group_by = form.cleaned_data.get("group_by") or "none"
    group = request.GET.get("group")
    traces = selectors.traces(request.user, start=start, end=end, group_by=group_by,
                              order_type=form.cleaned_data.get("order_type") or None,
                              channel=form.cleaned_data.get("channel") or None, filters=form.filters())
    if group is not None:
        traces = (t for t in traces if t.group == group)
    rows = engine.drill(traces, base)
    span = engine.SPANS_BY_NAME.get(base)
    shown = rows[:DRILL_LIMIT]
    orders = {o.pk: o for o in order_selectors.order_queryset(request.user).filter(pk__in=[t.order_id for t, _ in shown])}
    context.update({
        "rows": [{"order": orders[t.order_id], "value": value,
                  "late": bool(span and span.target_seconds and value is not None
                               and value * engine.UNIT_SECONDS[span.unit] > span.target_seconds)}
                 for t, value in shown if t.order_id in orders],
        "total": len(rows), "limit": DRILL_LIMIT,
        "unit": UNIT_LABELS.get(span.unit, "") if span else (UNIT_LABELS["hours"] if move else ""),
        "group": _group_name(group_by, group) if group is not None else "", "date_from": date_from,
        "date_to": date_to, "back": "?" + urlencode({k: v for k, v in request.GET.items() if k not in ("measure", "group")}),
    })
    return render(request, "stats/drill.html", context)


@login_required
@require_POST
def subscribe(request):
    """The report subscription form of the dashboard."""
    _check(request)
    try:
        services.subscriptions_set(actor=request.user, frequencies=request.POST.getlist("frequencies"))
    except ValidationFailed as exc:
        for message in exc.fields.values():
            messages.error(request, message)
    else:
        messages.success(request, _("Saved."))
    return redirect(reverse("stats:dashboard") + "#reports")
