"""统计报告订阅: who receives the weekly and monthly report by e-mail, and which were sent."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportFrequency(models.TextChoices):
    WEEKLY = "weekly", _("Weekly")
    MONTHLY = "monthly", _("Monthly")


class ReportSubscription(models.Model):
    """One person's subscription to the weekly or monthly report (figures of what they may see)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
                             related_name="report_subscriptions")
    frequency = models.CharField(_("frequency"), max_length=10, choices=ReportFrequency.choices)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("report subscription")
        verbose_name_plural = _("report subscriptions")
        constraints = [models.UniqueConstraint(fields=["user", "frequency"], name="report_subscription_once")]


class ReportDelivery(models.Model):
    """A report made for one subscription and period. Written in the same transaction as its outbox
    message, and unique per period: however often the worker runs, each report goes out once."""

    subscription = models.ForeignKey(ReportSubscription, on_delete=models.CASCADE, related_name="deliveries")
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    figures = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("report sent")
        verbose_name_plural = _("reports sent")
        constraints = [models.UniqueConstraint(fields=["subscription", "period_start"], name="report_delivery_once")]
