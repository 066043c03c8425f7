"""The phone system (CTI): integrations that sign their events, agents' extensions, calls with their
events, and the callback tasks abandoned calls become."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PhoneSystem(models.Model):
    """One phone-system integration (an Asterisk, a cloud call centre): its own token (only a SHA-256
    is kept) and the HMAC secret it signs every event with (kept as is: the server must sign too)."""

    name = models.CharField(_("name"), max_length=60)
    organization = models.ForeignKey("accounts.Organization", verbose_name=_("organization"),
                                     on_delete=models.PROTECT, related_name="phone_systems")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_prefix = models.CharField(_("token prefix"), max_length=12, editable=False)
    secret = models.CharField(max_length=64, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("phone system")
        verbose_name_plural = _("phone systems")

    def __str__(self) -> str:
        return self.name


class AgentExtension(models.Model):
    """分机: which agent sits at which extension of an organization's phone system."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name=_("agent"), on_delete=models.CASCADE,
                                related_name="extension")
    organization = models.ForeignKey("accounts.Organization", verbose_name=_("organization"),
                                     on_delete=models.CASCADE, related_name="+")
    extension = models.CharField(_("extension"), max_length=20)

    class Meta:
        verbose_name = _("agent extension")
        verbose_name_plural = _("agent extensions")
        constraints = [models.UniqueConstraint(fields=["organization", "extension"], name="calls_ext_unique")]

    def __str__(self) -> str:
        return f"{self.extension} {self.user}"


class CallState(models.TextChoices):
    RINGING = "ringing", _("Ringing")
    ANSWERED = "answered", _("Answered")
    ENDED = "ended", _("Ended")


class CallOutcome(models.TextChoices):
    ANSWERED = "answered", _("Answered")
    ABANDONED = "abandoned", _("Abandoned")


class Call(models.Model):
    """One call as the phone system reported it. Times are the phone system's own."""

    system = models.ForeignKey(PhoneSystem, on_delete=models.PROTECT, related_name="calls")
    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    call_id = models.CharField(_("call id"), max_length=80)
    caller = models.CharField(_("caller number"), max_length=32, help_text=_("E.164 when it is a valid number"))
    customer = models.ForeignKey("registry.Customer", verbose_name=_("customer"), on_delete=models.SET_NULL,
                                 null=True, blank=True, related_name="calls")
    order = models.ForeignKey("service.ServiceOrder", verbose_name=_("service order"), on_delete=models.SET_NULL,
                              null=True, blank=True, related_name="calls")
    queue = models.CharField(_("queue"), max_length=40, blank=True)
    extension = models.CharField(_("extension"), max_length=20, blank=True)
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("agent"), on_delete=models.SET_NULL,
                              null=True, blank=True, related_name="calls")
    state = models.CharField(_("state"), max_length=10, choices=CallState.choices, default=CallState.RINGING)
    outcome = models.CharField(_("outcome"), max_length=10, choices=CallOutcome.choices, blank=True)
    rang_at = models.DateTimeField(_("rang at"), null=True)
    answered_at = models.DateTimeField(_("answered at"), null=True)
    ended_at = models.DateTimeField(_("ended at"), null=True)
    transfers = models.PositiveSmallIntegerField(_("transfers"), default=0)
    recording = models.CharField(_("recording"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        constraints = [models.UniqueConstraint(fields=["system", "call_id"], name="calls_call_unique")]
        indexes = [models.Index(fields=["agent", "state", "-id"]), models.Index(fields=["organization", "-rang_at"]),
                   models.Index(fields=["customer", "-rang_at"])]

    @property
    def ring_seconds(self) -> float | None:
        if self.rang_at and self.answered_at:
            return max((self.answered_at - self.rang_at).total_seconds(), 0.0)
        return None

    @property
    def talk_seconds(self) -> float | None:
        if self.answered_at and self.ended_at:
            return max((self.ended_at - self.answered_at).total_seconds(), 0.0)
        return None

    @property
    def late(self) -> bool:
        ring = self.ring_seconds
        return ring is not None and ring > settings.CTI_THREE_RINGS_SECONDS


class CallEventKind(models.TextChoices):
    RINGING = "ringing", _("Ringing")
    ANSWERED = "answered", _("Answered")
    TRANSFERRED = "transferred", _("Transferred")
    ENDED = "ended", _("Ended")


class CallEvent(models.Model):
    """An event as received: one row per (phone system, event id), so a retry never acts twice."""

    system = models.ForeignKey(PhoneSystem, on_delete=models.PROTECT, related_name="+")
    event_id = models.CharField(max_length=80)
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=CallEventKind.choices)
    at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["system", "event_id"], name="calls_event_unique")]


class SeenSignature(models.Model):
    """Signatures seen inside the time window: the same signed request twice is a replay."""

    signature = models.CharField(max_length=64, unique=True)
    at = models.DateTimeField(db_index=True)


class CallbackState(models.TextChoices):
    OPEN = "open", _("To call back")
    DONE = "done", _("Called back")
    CANCELLED = "cancelled", _("Cancelled")


class CallbackTask(models.Model):
    """回拨: an abandoned call to return, with its own clock (due after CTI_CALLBACK_MINUTES of working
    time, at risk after 80 % of it)."""

    call = models.OneToOneField(Call, on_delete=models.CASCADE, related_name="callback")
    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey("registry.Customer", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    number = models.CharField(_("number"), max_length=32)
    state = models.CharField(_("state"), max_length=10, choices=CallbackState.choices, default=CallbackState.OPEN)
    started_at = models.DateTimeField(_("started at"))
    warn_at = models.DateTimeField(_("warning at"))
    due_at = models.DateTimeField(_("due at"))
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("callback task")
        verbose_name_plural = _("callback tasks")
        indexes = [models.Index(fields=["organization", "state", "due_at"])]

    def clock_state(self, now) -> str:
        """running / at_risk / breached while open (the SLA badge's words); met or breached once done."""
        if self.state == CallbackState.CANCELLED:
            return "cancelled"
        if self.state == CallbackState.DONE:
            return "met" if self.done_at and self.done_at <= self.due_at else "breached"
        if now >= self.due_at:
            return "breached"
        return "at_risk" if now >= self.warn_at else "running"
