"""Charts drawn on the server as SVG.

Why SVG from the server and not a chart script: the charts need no JavaScript (the strict
Content-Security-Policy allows no inline script, and a cheap phone need not load a chart library),
they print as they are shown, they carry their own <title> for screen readers, and every number
in them is also in the table beside them. Colours are presentation attributes, not style
attributes, so the CSP's style rules hold too.
"""

from __future__ import annotations

from math import log2

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

BAR = "#2f6fb3"
DEVIATION = "#b3261e"
SLOW = "#a15c00"
TEXT = "#1f2933"
MUTED = "#4a5a6a"


def bars(rows: list[tuple[str, float]], *, title: str, unit: str = "", width: int = 560) -> SafeString:
    """Horizontal bars, one per (label, value), the longest scaled to the width."""
    rows = [(label, value) for label, value in rows if value is not None]
    if not rows:
        return mark_safe("")
    top = max(v for _, v in rows) or 1
    label_w, row_h = 230, 26
    height = row_h * len(rows) + 8
    bar_w = width - label_w - 80
    items = format_html_join("", (
        '<g transform="translate(0,{})"><text x="{}" y="17" text-anchor="end" font-size="14" fill="{}">{}</text>'
        '<rect x="{}" y="4" width="{}" height="18" rx="3" fill="{}"><title>{}: {} {}</title></rect>'
        '<text x="{}" y="17" font-size="14" fill="{}">{} {}</text></g>'
    ), ((i * row_h, label_w - 8, TEXT, _short(label), label_w, max(1, round(bar_w * v / top)), BAR, label, _num(v), unit,
         label_w + max(1, round(bar_w * v / top)) + 6, MUTED, _num(v), unit) for i, (label, v) in enumerate(rows)))
    return format_html('<svg class="chart" role="img" viewBox="0 0 {w} {h}" width="100%" '
                       'preserveAspectRatio="xMinYMin meet"><title>{t}</title>{items}</svg>',
                       w=width, h=height, t=title, items=items)


def columns(rows: list[tuple[str, float]], *, title: str, width: int = 560, height: int = 180) -> SafeString:
    """Vertical columns over time (weeks or months), labels under every column."""
    rows = [(label, value or 0) for label, value in rows]
    if not rows:
        return mark_safe("")
    top = max(v for _, v in rows) or 1
    plot_h = height - 44
    step = width / len(rows)
    col_w = max(4, step * 0.7)
    items = format_html_join("", (
        '<g><rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {}</title></rect>'
        '<text x="{}" y="{}" font-size="12" text-anchor="middle" fill="{}">{}</text>'
        '<text x="{}" y="{}" font-size="12" text-anchor="middle" fill="{}">{}</text></g>'
    ), ((round(i * step + (step - col_w) / 2, 1), round(16 + plot_h - plot_h * v / top, 1), round(col_w, 1),
         round(plot_h * v / top, 1), BAR, label, _num(v),
         round(i * step + step / 2, 1), round(12 + plot_h - plot_h * v / top, 1), MUTED, _num(v),
         round(i * step + step / 2, 1), height - 10, TEXT, _tick(label))
        for i, (label, v) in enumerate(rows)))
    return format_html('<svg class="chart" role="img" viewBox="0 0 {w} {h}" width="100%" '
                       'preserveAspectRatio="xMinYMin meet"><title>{t}</title>{items}</svg>',
                       w=width, h=height, t=title, items=items)


def process_map(pm, *, order: list[str], labels: dict[str, str], title: str, slow_label: str) -> SafeString:
    """The mined process as a diagram: statuses down the page in the order of the designed flow;
    designed moves as straight arrows between neighbours (or arcs on the left when they skip), every
    other move as a red arc on the right; line width grows with the count; the slowest moves in amber."""
    entered = {n["status"]: n["entered"] for n in pm.nodes}
    statuses = [s for s in order if s in entered] + sorted(s for s in entered if s not in order)
    if not statuses:
        return mark_safe("")
    y = {s: 30 + i * 62 for i, s in enumerate(statuses)}
    box_x, box_w, box_h = 200, 220, 34
    width, height = 640, 30 + len(statuses) * 62
    slow = {(e["source"], e["target"]) for e in pm.slowest[:3]}
    parts: list[SafeString] = [format_html(
        '<defs><marker id="pm-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" markerHeight="9" '
        'markerUnits="userSpaceOnUse" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="{}"/></marker></defs>', MUTED)]
    for e in pm.edges:
        a, b = e["source"], e["target"]
        if a not in y or b not in y:
            continue
        stroke = 1 + round(log2(1 + e["count"]), 1)
        colour = SLOW if (a, b) in slow else (BAR if e["designed"] else DEVIATION)
        # From the aggregates an edge has a mean wait only (they hold no medians).
        shown = e["median_hours"] if e["median_hours"] is not None else e.get("mean_hours")
        wait = f'{shown} h' if shown is not None else ""
        tip = f'{labels.get(a, a)} → {labels.get(b, b)}: {e["count"]}, {wait}'
        y1, y2 = y[a] + box_h, y[b]
        neighbours = statuses.index(b) == statuses.index(a) + 1
        if e["designed"] and neighbours:
            parts.append(format_html(
                '<g><line x1="{x}" y1="{y1}" x2="{x}" y2="{y2}" stroke="{c}" stroke-width="{w}" marker-end="url(#pm-arrow)">'
                '<title>{tip}</title></line><text x="{tx}" y="{ty}" font-size="12" fill="{c}">{n} · {wait}</text></g>',
                x=box_x + box_w / 2, y1=y1, y2=y2 - 2, c=colour, w=stroke, tip=tip, tx=box_x + box_w / 2 + 8,
                ty=(y1 + y2) / 2 + 4, n=e["count"], wait=wait))
        else:
            right = not e["designed"]
            x = box_x + box_w if right else box_x
            bulge = (60 + 8 * abs(statuses.index(b) - statuses.index(a))) * (1 if right else -1)
            ya, yb = y[a] + box_h / 2, y[b] + box_h / 2
            parts.append(format_html(
                '<g><path d="M {x} {ya} C {cx} {ya}, {cx} {yb}, {x2} {yb}" fill="none" stroke="{c}" stroke-width="{w}" '
                'marker-end="url(#pm-arrow)"><title>{tip}</title></path>'
                '<text x="{tx}" y="{ty}" font-size="12" fill="{c}" text-anchor="{anchor}">{n} · {wait}</text></g>',
                x=x, ya=ya, cx=x + bulge, yb=yb, x2=x + (2 if right else -2), c=colour, w=stroke, tip=tip,
                tx=x + bulge * 0.8, ty=(ya + yb) / 2 + 4, anchor="start" if right else "end", n=e["count"], wait=wait))
    for s in statuses:
        parts.append(format_html(
            '<g><rect x="{x}" y="{y}" width="{w}" height="{h}" rx="6" fill="#eef3f9" stroke="{c}"/>'
            '<text x="{tx}" y="{ty}" font-size="14" text-anchor="middle" fill="{t}">{label} ({n})</text></g>',
            x=box_x, y=y[s], w=box_w, h=box_h, c=BAR, tx=box_x + box_w / 2, ty=y[s] + 22, t=TEXT,
            label=labels.get(s, s), n=entered[s]))
    if pm.slowest:
        parts.append(format_html('<text x="8" y="16" font-size="12" fill="{}">{}</text>', SLOW, slow_label))
    return format_html('<svg class="chart process-map" role="img" viewBox="0 0 {w} {h}" width="100%" '
                       'preserveAspectRatio="xMidYMin meet"><title>{t}</title>{body}</svg>',
                       w=width, h=height, t=title, body=mark_safe("".join(parts)))


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}".rstrip("0").rstrip(".")


def _short(label: str, limit: int = 14) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _tick(label: str) -> str:
    """'2026-W23' -> 'W23', '2026-06' -> '26-06': short enough to sit under a column."""
    return label.split("-")[-1] if "-W" in label else label[2:]
