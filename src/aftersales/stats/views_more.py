"""统计中心, second page: 三包 cost (parts, labour, travel) per model, component and month, failures per
1,000 machines in the field and mean hours to the first failure per model, return-visit satisfaction
beside the ratings, SLA attainment per hop, organization and person, and the parts app's stock and
claim figures. These are read from claims, machines, visits and SLA clocks (stats/measures.py), not
from the aggregates, so they are on their own page and the main dashboard stays quick."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from aftersales.stats import measures, selectors
from aftersales.stats.labels import MEASURE_LABELS
from aftersales.stats.views import StatsFilter, _cell, _check, _period

COSTS = ("warranty_cost_part", "warranty_cost_labour", "warranty_cost_travel", "warranty_cost")


def _orders_link(params: dict, **extra) -> str:
    """The drill-down of the dashboard: the repair orders behind a row (same period and filters)."""
    query = {k: v for k, v in {**params, **extra}.items() if v}
    return reverse("stats:drill") + "?" + urlencode(query)


@login_required
@require_GET
def more(request):
    _check(request)
    form = StatsFilter(request.GET or None, user=request.user)
    period = _period(form) if request.GET else selectors.period(None, None, today=timezone.localdate())
    context = {"form": form, "labels": MEASURE_LABELS, "ready": period is not None}
    if period is None:
        return render(request, "stats/more.html", context, status=422)
    _start, _end, date_from, date_to = period
    filters = form.filters() if form.is_bound else {}
    params = {"date_from": date_from.isoformat(), "date_to": date_to.isoformat(), **filters}
    user = request.user

    def table(group_by: str, names) -> list[dict]:
        got = measures.extra(user, set(names), date_from=date_from, date_to=date_to, group_by=group_by, filters=filters)
        return [{"group": g, "cells": [{"value": _cell(m[k]) if k in m else "–", "n": m[k].n if k in m else 0,
                                        "raw": m[k].value if k in m else None} for k in names]}
                for g, m in sorted(got.items())]

    cost_by_model = table("model", COSTS)
    for row in cost_by_model:
        row["link"] = _orders_link(params, measure="intake_repair", model=row["group"] if row["group"] != "-" else "")
    failures = table("model", ("failures_per_1000", "hours_to_first_failure"))
    for row in failures:
        row["link"] = _orders_link(params, measure="intake_repair", model=row["group"] if row["group"] != "-" else "")
    sla_people = table("person", ("sla_attainment",))
    for row in sla_people:
        row["link"] = _orders_link(params, measure="intake", group_by="person", group=row["group"])
    visits = measures.visit_satisfaction(user, date_from=date_from, date_to=date_to)[""]
    parts = measures.parts_measures(user)
    context.update({
        "date_from": date_from, "date_to": date_to,
        "cost_columns": [MEASURE_LABELS[k] for k in COSTS],
        "cost_by_model": cost_by_model, "cost_by_component": table("component", COSTS),
        "cost_by_month": table("month", COSTS),
        "failures": failures,
        "sla_hops": table("hop", ("sla_attainment",)), "sla_orgs": table("organization", ("sla_attainment",)),
        "sla_people": sla_people,
        "visit": {k: _cell(v) for k, v in visits.items()}, "visit_n": {k: v.n for k, v in visits.items()},
        "parts": parts,
    })
    context["chart_data"] = {
        "cost": {"kind": "columns", "title": _("三包 cost by model (yuan)"), "labels": [r["group"] for r in cost_by_model],
                 "series": [{"name": str(MEASURE_LABELS[k]), "values": [r["cells"][i]["raw"] or 0 for r in cost_by_model]}
                            for i, k in enumerate(COSTS[:3])],
                 "links": [r["link"] for r in cost_by_model]},
        "failures": {"kind": "bars", "title": _("Failures per 1,000 machines in the field"),
                     "labels": [r["group"] for r in failures], "values": [r["cells"][0]["raw"] or 0 for r in failures],
                     "links": [r["link"] for r in failures]},
    }
    return render(request, "stats/more.html", context)
