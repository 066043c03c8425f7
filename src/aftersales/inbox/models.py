"""Fax and e-mail (传真、邮件): each message taken from the IMAP inbox is an intake draft until an agent
completes it into an order or discards it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class DraftState(models.TextChoices):
    DRAFT = "draft", _("To handle")
    COMPLETED = "completed", _("Order recorded")
    DISCARDED = "discarded", _("Discarded")
    REFUSED = "refused", _("Refused (too large)")


class DraftKind(models.TextChoices):
    EMAIL = "email", _("E-mail")
    FAX = "fax", _("Fax")


class IntakeDraft(models.Model):
    """One message of the inbox. ``message_key`` (the Message-ID, or the folder's UIDVALIDITY and UID
    when a message has none) is unique: two workers reading the same message store it once."""

    message_key = models.CharField(max_length=255, unique=True)
    uid = models.CharField(max_length=40, blank=True)
    kind = models.CharField(_("kind"), max_length=8, choices=DraftKind.choices, default=DraftKind.EMAIL)
    state = models.CharField(_("state"), max_length=10, choices=DraftState.choices, default=DraftState.DRAFT)
    sender = models.EmailField(_("sender"), max_length=254, blank=True)
    sender_name = models.CharField(_("sender name"), max_length=100, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body = models.TextField(_("text"), blank=True)
    size = models.PositiveIntegerField(_("size (bytes)"), default=0)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    customer = models.ForeignKey("registry.Customer", verbose_name=_("customer"), on_delete=models.SET_NULL,
                                 null=True, blank=True, related_name="+")
    phone = models.CharField(_("phone found"), max_length=20, blank=True, help_text=_("E.164"))
    order = models.ForeignKey("service.ServiceOrder", verbose_name=_("service order"), on_delete=models.SET_NULL,
                              null=True, blank=True, related_name="+")
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    handled_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("intake draft")
        verbose_name_plural = _("intake drafts")
        indexes = [models.Index(fields=["state", "-received_at"])]


def draft_file_path(instance: "DraftAttachment", filename: str) -> str:
    return f"inbox/{instance.draft_id}/{instance.token}{instance.extension}"


class DraftAttachment(models.Model):
    """A fax page or a file sent with the message, recognised by its first bytes (never its name)."""

    draft = models.ForeignKey(IntakeDraft, on_delete=models.CASCADE, related_name="attachments")
    token = models.CharField(max_length=32)
    original_name = models.CharField(max_length=200, blank=True)
    content_type = models.CharField(max_length=60)
    extension = models.CharField(max_length=8)
    size = models.PositiveIntegerField()
    file = models.FileField(upload_to=draft_file_path, max_length=200)
