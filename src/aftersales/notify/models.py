from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("Email")
    WEBHOOK = "webhook", _("Webhook")


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class OutboxMessage(models.Model):
    """待发消息 (发件箱): a notification written in the same transaction as the change it reports.

    A worker delivers it after commit and retries; so a message exists exactly when its change
    committed, and a gateway that is down loses nothing.
    """

    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    recipient = models.CharField(_("recipient"), max_length=200)
    template = models.CharField(_("template code"), max_length=60)
    context = models.JSONField(_("context"), default=dict, blank=True)
    order = models.ForeignKey(
        "service.ServiceOrder", verbose_name=_("service order"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="outbox_messages",
    )
    status = models.CharField(_("status"), max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    available_at = models.DateTimeField(_("available at"))
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        indexes = [
            # The delivery loop: pending messages whose time has come, oldest first.
            models.Index(
                fields=["available_at"], name="outbox_pending_idx", condition=models.Q(status="pending")
            ),
        ]

    def __str__(self) -> str:
        # Never the recipient: phone numbers stay out of logs and admin titles.
        return f"{self.channel}:{self.template} #{self.pk}"
