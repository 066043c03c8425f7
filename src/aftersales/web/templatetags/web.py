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



@register.filter
def map_url(address: str) -> str:
    """A plain link to a map search of the address (高德地图's URI API opens the app on a phone and
    the web map elsewhere); no map script is loaded into the page."""
    from urllib.parse import quote

    return f"https://uri.amap.com/search?keyword={quote(address)}&src=aftersales&callnative=1" if address else ""


@register.filter
def tel_url(display: str) -> str:
    """``tel:`` with the digits of a phone as shown (spaces and dashes dropped)."""
    if not display or "*" in display:  # a masked number cannot be called
        return ""
    digits = "".join(c for c in display if c.isdigit() or c == "+")
    return f"tel:{digits}" if digits else ""


# The warranty engine's rule ids (warranty/data/regime_*.json) in words; the id itself stays in the
# tooltip for whoever looks up the clause.
def _rule_labels() -> dict:
    from django.utils.translation import pgettext_lazy

    return {
        "CN2010-Annex": pgettext_lazy("warranty rule", "Warranty periods (annex)"),
        "CN2010-AnnexMainParts": pgettext_lazy("warranty rule", "Main parts warranty period"),
        "CN2010-Art24": pgettext_lazy("warranty rule", "Warranty starts at the invoice date"),
        "CN2010-BurdenOfProof": pgettext_lazy("warranty rule", "Burden of proof"),
        "CN2010-Exchange": pgettext_lazy("warranty rule", "Exchange of the machine"),
        "CN2010-ExchangeRestart": pgettext_lazy("warranty rule", "Warranty restarts after an exchange"),
        "CN2010-Exclusions": pgettext_lazy("warranty rule", "Exclusions"),
        "CN2010-Extension": pgettext_lazy("warranty rule", "Extended by the repair time"),
        "CN2010-FirstSeason": pgettext_lazy("warranty rule", "First operating season"),
        "CN2010-FreeRepair": pgettext_lazy("warranty rule", "Free repair"),
        "CN2010-HostMachine": pgettext_lazy("warranty rule", "Host machine and implements"),
        "CN2010-MainPartReplacement": pgettext_lazy("warranty rule", "Main part replacement"),
        "CN2010-RepairDeadline": pgettext_lazy("warranty rule", "Repair within 30 working days"),
        "CN2010-Return": pgettext_lazy("warranty rule", "Return of the machine"),
        "CN2010-WearParts": pgettext_lazy("warranty rule", "Wear parts"),
        "CN2010-WorkshopGuarantee": pgettext_lazy("warranty rule", "Repair quality guarantee"),
        "CivilCode-Art201-202": pgettext_lazy("warranty rule", "Counting of periods (Civil Code)"),
        "CivilCode-Art203": pgettext_lazy("warranty rule", "Period ending on a holiday (Civil Code)"),
        "Company-DeliveryStart": pgettext_lazy("warranty rule", "Starts at delivery (company commitment)"),
        "Company-ServiceMode": pgettext_lazy("warranty rule", "Service mode (company rule)"),
    }


@register.filter
def rule_label(rule: str) -> str:
    from django.utils.translation import pgettext

    return str(_rule_labels().get(rule) or pgettext("warranty rule", "Warranty clause"))


_ASCII_PUNCTUATION = {"：": ": ", "，": ", ", "。": ". ", "（": " (", "）": ")", "；": "; "}


def punctuation(mark: str) -> str:
    """Chinese punctuation in the Chinese UI, its ASCII form (with its space) in the others."""
    from django.utils.translation import get_language

    if (get_language() or "zh-hans").startswith("zh"):
        return mark
    return "".join(_ASCII_PUNCTUATION.get(c, c) for c in mark)


@register.simple_tag(name="punct")
def punct_tag(mark: str) -> str:
    return punctuation(mark)
