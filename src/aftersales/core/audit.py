"""Audited writes of the reference data only an administrator changes (the service network, the
SLA rules, busy seasons, warranty policy versions).

The record is django-auditlog's ``LogEntry`` (who, what, when, and each changed field's before and
after), chosen over a hand-made table because it also records the same models' changes made in the
Django admin site (its middleware names the author there), and over django-simple-history because
one table serves every model without a history table and migration per model. The models are
registered in ``AUDITED``; ``audited`` names the author for writes outside a request's middleware
(API tokens authenticate after the middleware ran)."""

from __future__ import annotations

from contextlib import contextmanager

from auditlog.context import set_actor
from auditlog.registry import auditlog
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.core.errors import ValidationFailed

# model label -> the fields whose values are never copied into the log
AUDITED = {
    "accounts.Organization": {},
    "accounts.Coverage": {},
    "accounts.User": {"exclude_fields": ["password", "last_login"], "m2m_fields": {"roles"}},
    "accounts.Skill": {},
    "sla.SlaPolicy": {},
    "sla.BusySeason": {},
    "sla.WorkingHours": {},
    "warranty.WarrantyPolicy": {},
}


def register_audited_models() -> None:
    from django.apps import apps

    for label, options in AUDITED.items():
        model = apps.get_model(label)
        if not auditlog.contains(model):
            auditlog.register(model, **options)


@contextmanager
def audited(actor):
    """One transaction whose changes to audited models are logged in the actor's name."""
    with set_actor(actor), transaction.atomic():
        yield


def clean_or_refuse(instance, *, exclude: list[str] | None = None, prefix: str = "") -> None:
    """Model validation as the API's 422: every field that is wrong and why."""
    try:
        instance.full_clean(exclude=exclude)
    except DjangoValidationError as exc:
        fields = {f"{prefix}{k}" if k != "__all__" else (prefix.rstrip(".") or "body"): " ".join(str(m) for m in v)
                  for k, v in exc.message_dict.items()}
        raise ValidationFailed(_("Nothing was changed."), fields=fields) from None


def save_audited(*, actor, instance, values: dict, exclude_clean: list[str] | None = None):
    """Set the values, validate, save: one audited change."""
    for name, value in values.items():
        setattr(instance, name, value)
    clean_or_refuse(instance, exclude=exclude_clean)
    with audited(actor):
        instance.save()
    return instance


def delete_audited(*, actor, instance) -> None:
    with audited(actor):
        instance.delete()
