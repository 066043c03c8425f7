"""The bell of the top bar: the user's unread notifications, one COUNT per page."""

from django import template

from aftersales.notify.selectors import unread_count as _unread_count

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_count(context) -> int:
    request = context.get("request")
    user = getattr(request, "user", None)
    return _unread_count(user) if user is not None else 0
