from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RetentionRun(models.Model):
    """清理记录: one applied purge. ``counts`` holds, per rule, how many rows it deleted or anonymised
    and the cutoff it used, so an auditor sees what left the database, when, by whose hand, under
    which policy (the orders' own timelines also record their anonymisation)."""

    started_at = models.DateTimeField(_("started at"), db_index=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # "worker" for the daily task, else the operator's login name as the command was run.
    actor = models.CharField(_("run by"), max_length=150)
    counts = models.JSONField(_("what was purged"), default=dict)
    policy = models.JSONField(_("policy"), default=dict, help_text=_("Days kept per rule at the time of the run"))

    class Meta:
        verbose_name = _("retention run")
        verbose_name_plural = _("retention runs")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.started_at:%Y-%m-%d %H:%M}"
