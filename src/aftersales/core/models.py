from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeStamped(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class StoredFile(models.Model):
    """A file kept through Django's storage API under a random name (``token`` + ``extension``), with
    what the uploader called it and what its content was checked to be. Subclasses add the owner
    and the ``file`` field with their own upload path."""

    token = models.CharField(max_length=32, editable=False)
    extension = models.CharField(max_length=8, editable=False)
    original_name = models.CharField(_("original name"), max_length=200, blank=True)
    content_type = models.CharField(_("content type"), max_length=40)
    size = models.PositiveIntegerField(_("size"))
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        abstract = True


class ConfigStamp(models.Model):
    """One row whose token changes, in the same transaction, whenever a rule table changes (SLA
    policies, calendars, warranty policies, webhook subscribers). Processes keep those tables in
    memory and trust their copy only while the token they read it under is still the stored one:
    see ``core.config``. A random token, not a counter, so a rolled-back edit can never make an
    old copy look current again."""

    token = models.CharField(max_length=32)

    class Meta:
        verbose_name = _("configuration stamp")


class ThrottleCounter(models.Model):
    """One counter of the shared throttle (``core.throttle``): hits of a key in its current window,
    and for lockouts the time until which the key is refused. In the database, so every process
    and every node counts together (the default cache is per process)."""

    key = models.CharField(_("key"), max_length=200, unique=True)
    count = models.PositiveIntegerField(_("count"), default=0)
    window_start = models.DateTimeField(_("window start"))
    last_at = models.DateTimeField(_("last attempt"), db_index=True)
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)

    class Meta:
        verbose_name = _("throttle counter")
        verbose_name_plural = _("throttle counters and lockouts")

    def __str__(self) -> str:
        return self.key
