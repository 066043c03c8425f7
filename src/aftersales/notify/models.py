from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aftersales.ops.context import current_request_id


class Channel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("Email")
    WEBHOOK = "webhook", _("Webhook")


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed, will retry")
    DEAD = "dead", _("Dead (gave up)")


# The delivery loop picks these up once their available_at has come.
DELIVERABLE = (OutboxStatus.PENDING, OutboxStatus.FAILED)


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
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # The id every delivery attempt of this message carries (X-Aftersales-Message-Id, "message_id" in
    # the SMS gateway's payload, the e-mail's Message-ID): a provider deduplicates a retry on it.
    message_id = models.UUIDField(_("message id"), default=uuid.uuid4, editable=False)
    # A worker claims a batch with one conditional UPDATE that writes its token, and renews the claim
    # (a heartbeat) while it delivers; a claim whose worker died is taken over after claimed_until,
    # NOTIFY_CLAIM_SECONDS at most (at-least-once delivery, never lost).
    claim_token = models.CharField(max_length=32, blank=True, editable=False)
    # The request (or task-<id>) that queued it: its delivery logs under the same id (issue 19).
    request_id = models.CharField(max_length=64, blank=True, editable=False, default=current_request_id)
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        indexes = [
            # The delivery loop: pending messages whose time has come, oldest first.
            models.Index(
                fields=["available_at"], name="outbox_deliverable_idx", condition=models.Q(status__in=["pending", "failed"])
            ),
            models.Index(fields=["claimed_until"], name="outbox_sending_idx", condition=models.Q(status="sending")),
        ]

    def __str__(self) -> str:
        # Never the recipient: phone numbers stay out of logs and admin titles.
        return f"{self.channel}:{self.template} #{self.pk}"


class WebhookSubscriber(models.Model):
    """Webhook 订阅方: an outside system told of events as signed JSON (X-Aftersales-Signature)."""

    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(_("signing secret"), max_length=200)
    events = models.JSONField(_("events"), default=list, blank=True,
                              help_text=_("Template codes to send, e.g. order_created, sla_breach; empty: all."))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook subscriber")
        verbose_name_plural = _("webhook subscribers")

    def __str__(self) -> str:
        return self.name

    def wants(self, event: str) -> bool:
        return not self.events or event in self.events


class Notification(models.Model):
    """站内通知 (the inbox behind the bell): what the system told one staff member about an order,
    written in the transaction of the change it reports, next to the SMS or e-mail of the outbox.

    The text is not stored: ``kind`` is a template code of ``notify.templates`` and ``context`` its
    data, rendered in the reader's language when the inbox is read."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.CASCADE,
                             related_name="notifications")
    order = models.ForeignKey("service.ServiceOrder", verbose_name=_("service order"), on_delete=models.CASCADE,
                              null=True, blank=True, related_name="+")
    kind = models.CharField(_("kind"), max_length=60)
    context = models.JSONField(_("context"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            # The inbox, newest first, and the bell's unread count: both per user.
            models.Index(fields=["user", "-created_at", "-id"], name="notification_inbox_idx"),
            models.Index(fields=["user"], name="notification_unread_idx", condition=models.Q(read_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.user_id} #{self.pk}"
