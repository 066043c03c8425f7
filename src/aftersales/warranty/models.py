from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class WarrantyPolicy(models.Model):
    """三包政策版本: one version of a named warranty regime, stored as the engine's data.

    Versions are never edited in place: an administrator's change saves a new version, so every
    evaluation that recorded (name, version) can be explained later with the rules it used.
    """

    name = models.CharField(_("name"), max_length=60)
    version = models.PositiveIntegerField(_("version"))
    effective_from = models.DateField(_("effective from"))
    data = models.JSONField(_("rules"))
    is_active = models.BooleanField(_("active"), default=True)
    note = models.CharField(_("change note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.SET_NULL, null=True, blank=True
    )

    class Meta:
        verbose_name = _("warranty policy version")
        verbose_name_plural = _("warranty policy versions")
        ordering = ["-effective_from", "-version"]
        constraints = [models.UniqueConstraint(fields=["name", "version"], name="warranty_policy_version_unique")]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"
