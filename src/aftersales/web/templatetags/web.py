"""The components every page shares: status badges (colours from service/models.py), dates, phones."""

from django import template
from django.utils import timezone
from django.utils.html import format_html

from aftersales.service.models import STATUS_COLOURS, OrderStatus

register = template.Library()


@register.simple_tag
def status_badge(status: str):
    label = OrderStatus(status).label if status in OrderStatus.values else status
    return format_html('<span class="badge badge-{}">{}</span>', STATUS_COLOURS.get(status, "secondary"), label)


@register.filter
def overdue(order) -> bool:
    return bool(order.promised_at and order.is_open and order.status != OrderStatus.COMPLETED
                and order.promised_at < timezone.now())


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


@register.filter
def phone(e164: str) -> str:
    from aftersales.core.phones import display_phone

    return display_phone(e164) if e164 else ""
