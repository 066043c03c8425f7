"""统计报表 as Excel: the dashboard's numbers, sheet by sheet, exactly as the page computed them
(the same context: the same scope, period, filters and source). Written with web/export.py's
workbook writer, so text cells are formula-safe like every other export."""

from __future__ import annotations

from django.utils.translation import gettext as _

from aftersales.web.export import Column, workbook_response


def _value(figure):
    if figure is None or figure.value is None:
        return None
    return round(figure.value * 100, 1) if figure.unit == "ratio" else figure.value


def _unit(figure, unit_labels) -> str:
    return "%" if figure.unit == "ratio" else str(unit_labels.get(figure.unit, ""))


def dashboard_xlsx(context: dict):
    from aftersales.stats.labels import MEASURE_LABELS, UNIT_LABELS

    overall = context["overall"]
    period = f"{context['date_from']:%Y%m%d}-{context['date_to']:%Y%m%d}"
    figures = [(name, f) for name, f in overall.items() if name in MEASURE_LABELS]
    sheets = [(_("Figures"), (
        Column(_("Figure"), lambda r: str(MEASURE_LABELS[r[0]]), 28),
        Column(_("Value"), lambda r: _value(r[1]), 12),
        Column(_("Unit"), lambda r: _unit(r[1], UNIT_LABELS), 8),
        Column(_("Median"), lambda r: r[1].median, 10),
        Column(_("p90"), lambda r: r[1].p90, 10),
        Column(_("Orders behind it (n)"), lambda r: r[1].n, 14),
    ), figures)]
    if context["rows"]:
        measures = context["table_measures"]
        table = context["table"]
        groups = sorted(table.items(), key=lambda kv: -kv[1]["intake"].n)
        columns = [Column(context["group_label"], lambda r: r[0] or "-", 22)]
        for m in measures:
            columns.append(Column(f"{MEASURE_LABELS[m]} ({_unit(overall[m], UNIT_LABELS)})".replace(" ()", ""),
                                  lambda r, m=m: _value(r[1][m]), 14))
            columns.append(Column("n", lambda r, m=m: r[1][m].n, 7))
        sheets.append((_("By %(group)s") % {"group": context["group_label"]}, tuple(columns), groups))
    sheets.append((_("Over time"), (
        Column(context["bucket_label"], lambda r: r[0], 12),
        Column(str(MEASURE_LABELS["intake"]), lambda r: r[1], 12),
    ), context["series"]))
    labels = context["status_labels"]
    sheets.append((_("Process map"), (
        Column(_("From"), lambda e: str(labels.get(e["source"], e["source"])), 16),
        Column(_("To"), lambda e: str(labels.get(e["target"], e["target"])), 16),
        Column(_("Orders"), lambda e: e["count"], 10),
        Column(_("Designed"), lambda e: _("yes") if e["designed"] else _("no"), 10),
        Column(_("Median wait (h)"), lambda e: e["median_hours"], 14),
        Column(_("p90 (h)"), lambda e: e["p90_hours"], 10),
        Column(_("Mean wait (h)"), lambda e: e.get("mean_hours"), 14),
    ), context["pm"].edges))
    sheets.append((_("Deviations"), (
        Column(_("Deviation"), lambda d: str(d["label"]), 36),
        Column(_("Orders"), lambda d: d["count"], 10),
        Column(_("Examples"), lambda d: " ".join(f"#{i}" for i in d["examples"]), 30),
    ), context["deviations"]))
    return workbook_response(filename=f"{_('Statistics')}-{period}", sheets=sheets)
