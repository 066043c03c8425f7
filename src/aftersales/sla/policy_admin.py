"""The SLA policy table's writes (服务时限标准): each change recomputes the running clocks in the
worker. Apart from sla.services so that the tasks module, which calls the clock services, is not
imported back by them (no import circle: services <- tasks <- policy_admin)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.core.errors import NotFound, ValidationFailed
from aftersales.sla.models import Basis, Season, SlaPolicy, Target, Unit
from aftersales.sla.tasks import recompute_clocks


POLICY_FIELDS = ("name", "target", "amount", "unit", "basis", "order_types", "service_levels", "service_modes",
                 "provinces", "season", "warranty_only", "is_active")


def _clean_policy(data: dict) -> dict:
    errors = {}
    if not str(data.get("name") or "").strip():
        errors["name"] = _("This field is required.")
    for name, choices in (("target", Target), ("unit", Unit), ("basis", Basis), ("season", Season)):
        if data.get(name) not in choices.values:
            errors[name] = _("Pick one of: %(choices)s.") % {"choices": ", ".join(choices.values)}
    if not isinstance(data.get("amount"), int) or data["amount"] < 1:
        errors["amount"] = _("Enter a whole number of at least 1.")
    for name in ("order_types", "service_levels", "service_modes", "provinces"):
        value = data.get(name) or []
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            errors[name] = _("Give a list of codes (empty: any).")
    if errors:
        raise ValidationFailed(_("The SLA policy was not saved."), fields=errors)
    return {k: data[k] for k in POLICY_FIELDS if k in data}


def _recompute_after_commit() -> None:
    transaction.on_commit(lambda: recompute_clocks.enqueue())


def policy_create(*, data: dict) -> SlaPolicy:
    with transaction.atomic():
        policy = SlaPolicy.objects.create(**_clean_policy(data))
        _recompute_after_commit()
    return policy


def policy_update(*, policy_id: int, data: dict) -> SlaPolicy:
    with transaction.atomic():
        policy = SlaPolicy.objects.select_for_update().filter(pk=policy_id).first()
        if policy is None:
            raise NotFound(_("SLA policy not found."))
        for name, value in _clean_policy(data).items():
            setattr(policy, name, value)
        policy.save()
        _recompute_after_commit()
    return policy


def policy_delete(*, policy_id: int) -> None:
    with transaction.atomic():
        if not SlaPolicy.objects.filter(pk=policy_id).delete()[0]:
            raise NotFound(_("SLA policy not found."))
        _recompute_after_commit()
