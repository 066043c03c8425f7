"""号码查看记录: the audit row written when a partner is shown a customer's full number. Its own
module below the phone rule (registry.policies) and the registry's services, so the rule can
record a reveal without importing the services that read through the rule (no import circle)."""

from __future__ import annotations

from aftersales.registry.models import PhoneReveal


def phone_reveal_record(*, user, customer, order=None, reason: str, where: str = ""):
    """A partner was shown a full number. Its own small transaction: the audit row is written even
    when the page that showed the number only reads."""
    return PhoneReveal.objects.create(user=user, organization_id=user.organization_id, customer=customer,
                                      order_id=getattr(order, "pk", None), reason=reason, purpose=where[:60])
