"""A parts form refused by its service comes back on its own page (422) with what was typed and
each field's error beside it (``views.act``). These tags read that form for one action and, for
the forms of a list (ship this requisition, inspect this part), for one row."""

from __future__ import annotations

from django import template
from django.utils.html import format_html, format_html_join

register = template.Library()


def _mine(context, action: str, row=None) -> dict | None:
    form = context.get("form")
    if not form or form["action"] != action:
        return None
    if row is not None and str(row) != form["values"].get("id", ""):
        return None
    return form


@register.simple_tag(takes_context=True)
def ferr(context, action: str, field: str, row=None, suffix="") -> str:
    """The error of one field, inside its label (read with the label by a screen reader).
    ``suffix``: the line's id of a field named per line (``amount_12``)."""
    field = f"{field}{suffix}"
    form = _mine(context, action, row)
    message = form["errors"].get(field) if form else None
    return format_html(' <span class="errors" data-field-error="{}">{}</span>', field, message) if message else ""


@register.simple_tag(takes_context=True)
def fval(context, action: str, field: str, default="", row=None, suffix=""):
    """What was typed in the field, else the page's default."""
    form = _mine(context, action, row)
    return form["values"].get(f"{field}{suffix}", "") if form else default


@register.simple_tag(takes_context=True)
def fsel(context, action: str, field: str, option, row=None) -> str:
    """``selected`` on the option that was chosen."""
    form = _mine(context, action, row)
    return "selected" if form and form["values"].get(field) == str(option) else ""


@register.simple_tag(takes_context=True)
def fmsg(context, action: str, row=None) -> str:
    """The summary at the top of the refused form: what went wrong, every field named."""
    form = _mine(context, action, row)
    if not form:
        return ""
    items = format_html_join("", "<li>{}</li>", ((m,) for m in form["messages"]))
    return format_html('<div class="errors" role="alert" data-form-error="{}"><p>{}</p><ul class="flush">{}</ul></div>',
                       action, form["message"], items)


@register.simple_tag(takes_context=True)
def fchk(context, action: str, field: str, default=False, row=None) -> str:
    """``checked`` as the refused form had it, else as the page would."""
    form = _mine(context, action, row)
    return "checked" if (field in form["values"] if form else default) else ""
