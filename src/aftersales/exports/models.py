"""导出文件: an Excel export too large to write inside the web request, written by the worker."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Being prepared")
    DONE = "done", _("Ready to download")
    FAILED = "failed", _("Failed")


class ExportFile(models.Model):
    """One requested export: the page (path and filters) it repeats as its requester, and the file
    the worker wrote under the var directory. Only its requester can download it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.CASCADE,
                             related_name="+")
    token = models.CharField(_("token"), max_length=32, unique=True)
    path = models.CharField(_("page"), max_length=2000)
    language = models.CharField(_("language"), max_length=10)
    status = models.CharField(_("status"), max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    filename = models.CharField(_("file name"), max_length=200, blank=True)
    rows = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    size = models.PositiveBigIntegerField(_("size"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")

    def __str__(self) -> str:
        return f"{self.user_id} {self.path}"
