from django import template

from aftersales.standards import selectors

register = template.Library()


@register.inclusion_tag("standards/_held_elsewhere.html", takes_context=True)
def held_elsewhere(context):
    """首问负责 on the inbox: the user's requests now in someone else's hands, stalled ones first."""
    user = context["request"].user
    orders = list(selectors.held_elsewhere(user)[:50]) if user.is_authenticated else []
    for o in orders:
        o.stalled = selectors.is_stalled(o)
    return {"orders": orders}
