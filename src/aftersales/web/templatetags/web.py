"""The components every page shares: status badges (colours from service/models.py), dates, phones."""

import functools

from django import template
from django.utils import timezone
from django.utils.html import format_html

from aftersales.service.models import STATUS_COLOURS, OrderStatus

register = template.Library()


# The (lazy) label of each status, looked up once per row rather than rebuilt from the enum.
STATUS_LABELS = dict(OrderStatus.choices)


@register.simple_tag
def status_badge(status: str):
    label = STATUS_LABELS.get(status, status)
    return format_html('<span class="badge badge-{}">{}</span>', STATUS_COLOURS.get(status, "secondary"), label)


@register.filter
def overdue(order) -> bool:
    return bool(order.promised_at and order.is_open and order.status != OrderStatus.COMPLETED
                and order.promised_at < timezone.now())


@register.filter
def short_datetime(value) -> str:
    """``|date:"m-d H:i"`` in the current time zone, for the rows of long lists: the date filter
    parses its format string on every call, a tenth of a 25-row table's rendering."""
    return timezone.localtime(value).strftime("%m-%d %H:%M") if value else ""


@functools.cache
def _choice_labels(model, field_name: str) -> dict:
    return dict(model._meta.get_field(field_name).flatchoices)


@register.filter
def display(obj, field_name: str):
    """``obj.get_<field>_display()`` from a dict built once per field; Django's builds it on every call."""
    value = getattr(obj, field_name)
    return _choice_labels(type(obj), field_name).get(value, value)


@register.filter
def local_input(value) -> str:
    """A datetime as a <input type=datetime-local> value in Shanghai time."""
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M") if value else ""


@register.filter
def get_item(mapping, key):
    return (mapping or {}).get(key, [])


@register.simple_tag(takes_context=True)
def nav_items(context):
    from aftersales.web.workbench import nav_items as items

    user = context["request"].user
    return items(user) if user.is_authenticated else []


@register.filter
def action_label(action: str) -> str:
    from aftersales.web.actions import label_of

    return label_of(action)


@register.simple_tag(takes_context=True)
def phone_for(context, subject, number: str = "") -> str:
    """The one way a template shows a customer's number: ``{% phone_for order %}`` (the order's
    contact) or ``{% phone_for customer number %}``. Asks registry.policies.phone_for, so a user who
    may not read the number sees 138****5678 and a partner's reveal is recorded."""
    from aftersales.registry.policies import phone_for as rule

    user = context["request"].user
    if hasattr(subject, "contact_phone"):  # an order
        return rule(user, None, number or subject.contact_phone, order=subject, where="web").text
    return rule(user, subject, number, where="web").text


@register.filter
def phone(e164: str) -> str:
    """Kept for templates written before the phone rule: it knows no user, so it masks. Use
    ``{% phone_for %}`` to show a number."""
    from aftersales.core.phones import mask_phone

    return mask_phone(e164) if e164 and e164.startswith("+") else (e164 or "")
