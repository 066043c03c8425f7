"""Time promises (服务时限): SLA policies, working calendars, busy seasons, escalation levels and the
stored clocks the sweeper reads. Clocks are derived from the order's events by ``sla.engine``;
the rows here are a recomputable cache with the sweeper's marks on top."""

from __future__ import annotations

from datetime import time

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from aftersales.sla import engine


class Target(models.TextChoices):
    HANDOFF = "handoff", _("Handoff to a hotline technician")
    CALLBACK = "callback", _("Call-back")
    DISPATCH_ACCEPT = "dispatch_accept", _("Dispatched and accepted")
    ON_SITE = "on_site", _("On site")
    FIXED = "fixed", _("Fixed")
    REPAIR_CEILING = "repair_ceiling", _("Statutory repair ceiling")
    COMPLAINT_RESPONSE = "complaint_response", _("Complaint first response")


assert set(Target.values) == set(engine.STAGES), "every stage of the engine has a target code"


class Unit(models.TextChoices):
    MINUTES = "minutes", _("minutes")
    HOURS = "hours", _("hours")
    DAYS = "days", _("days")


class Basis(models.TextChoices):
    WORKING = "working", _("Working time")
    CALENDAR = "calendar", _("Calendar time")


class Season(models.TextChoices):
    ANY = "any", _("Any time")
    BUSY = "busy", _("Busy season only")
    NORMAL = "normal", _("Outside busy season")


class SlaPolicy(models.Model):
    """服务时限标准: one time target of one stage, for the orders its filters select (empty: any).

    The most specific active row of a target wins (more filters set), so "on site 8 h in remote
    provinces" overrides "on site 6 h" there.
    """

    name = models.CharField(_("name"), max_length=100)
    target = models.CharField(_("target"), max_length=24, choices=Target.choices)
    amount = models.PositiveIntegerField(_("amount"))
    unit = models.CharField(_("unit"), max_length=8, choices=Unit.choices, default=Unit.HOURS)
    basis = models.CharField(_("counted in"), max_length=10, choices=Basis.choices, default=Basis.WORKING)
    order_types = models.JSONField(_("order types"), default=list, blank=True)
    service_levels = models.JSONField(_("service levels"), default=list, blank=True)
    service_modes = models.JSONField(_("service modes"), default=list, blank=True)
    provinces = models.JSONField(_("provinces"), default=list, blank=True)
    season = models.CharField(_("season"), max_length=8, choices=Season.choices, default=Season.ANY)
    warranty_only = models.BooleanField(_("warranty repairs only"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["target", "id"]

    def __str__(self) -> str:
        return self.name

    def rule(self) -> engine.Rule:
        seconds = self.amount * {"minutes": 60, "hours": 3600, "days": 86400}[self.unit]
        if self.unit == Unit.DAYS and self.basis == Basis.WORKING:
            basis = engine.WORKING_DAYS  # whole statutory working days, as the 三包 rules count them
        else:
            basis = engine.WORKING if self.basis == Basis.WORKING else engine.CALENDAR
        return engine.Rule(
            id=self.pk, target=self.target, seconds=seconds, basis=basis, order_types=tuple(self.order_types),
            service_levels=tuple(self.service_levels), service_modes=tuple(self.service_modes),
            provinces=tuple(self.provinces), season=self.season, warranty_only=self.warranty_only,
        )


class WorkingHours(models.Model):
    """工作时间: an organization's working hours; the row without an organization is the default."""

    organization = models.OneToOneField(
        "accounts.Organization", verbose_name=_("organization"), on_delete=models.CASCADE, null=True, blank=True,
        related_name="working_hours",
    )
    start = models.TimeField(_("start"), default=time(8))
    end = models.TimeField(_("end"), default=time(18))
    weekends = models.BooleanField(_("works weekends"), default=False)
    holidays = models.BooleanField(_("works public holidays"), default=False)
    busy_every_day = models.BooleanField(_("every day in busy season"), default=True)

    class Meta:
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        constraints = [
            models.UniqueConstraint(fields=["organization"], condition=models.Q(organization__isnull=True),
                                    name="working_hours_one_default"),
        ]

    def __str__(self) -> str:
        return f"{self.organization or _('default')} {self.start:%H:%M}-{self.end:%H:%M}"

    def hours(self) -> engine.Hours:
        return engine.Hours(self.start, self.end, self.weekends, self.holidays, self.busy_every_day)


class BusySeason(models.Model):
    """农忙时节: a window of the year when farmers need their machines most (per province and crop)."""

    name = models.CharField(_("name"), max_length=60)
    start = models.CharField(_("from (MM-DD)"), max_length=5)
    end = models.CharField(_("to (MM-DD)"), max_length=5)
    provinces = models.JSONField(_("provinces"), default=list, blank=True)
    crop = models.CharField(_("crop"), max_length=40, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("busy season")
        verbose_name_plural = _("busy seasons")
        ordering = ["start", "id"]

    def __str__(self) -> str:
        return f"{self.name} {self.start}..{self.end}"

    def season(self) -> engine.Season:
        return engine.Season(self.name, self.start, self.end, tuple(self.provinces), self.crop)


class EscalationScope(models.TextChoices):
    HOLDER_ORG = "holder_org", _("The organization holding the order")
    SERVICE_CENTER = "service_center", _("The service center")


class EscalationLevel(models.Model):
    """升级层级: who is told, and how long after a breach, that a promise is still broken."""

    level = models.PositiveSmallIntegerField(_("level"), unique=True)
    after_minutes = models.PositiveIntegerField(_("minutes after the breach"))
    role = models.CharField(_("role"), max_length=32)
    scope = models.CharField(_("where"), max_length=16, choices=EscalationScope.choices, default=EscalationScope.HOLDER_ORG)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("escalation level")
        verbose_name_plural = _("escalation levels")
        ordering = ["level"]

    def __str__(self) -> str:
        return f"L{self.level} +{self.after_minutes} min {self.role}"


class ClockState(models.TextChoices):
    RUNNING = "running", _("Running")
    PAUSED = "paused", _("Paused")
    MET = "met", _("Met")
    BREACHED = "breached", _("Breached")
    CANCELLED = "cancelled", _("Cancelled")


class SlaClock(models.Model):
    """服务时钟: one target of one order, as the engine derived it, plus what the sweeper has done."""

    order = models.ForeignKey("service.ServiceOrder", verbose_name=_("service order"), on_delete=models.CASCADE,
                              related_name="sla_clocks")
    target = models.CharField(_("target"), max_length=24, choices=Target.choices)
    policy = models.ForeignKey(SlaPolicy, verbose_name=_("SLA policy"), on_delete=models.SET_NULL, null=True, related_name="+")
    target_seconds = models.PositiveIntegerField(_("target (seconds)"))
    basis = models.CharField(_("counted in"), max_length=12)
    started_at = models.DateTimeField(_("started at"))
    due_at = models.DateTimeField(_("due at"), null=True)
    warn_at = models.DateTimeField(_("warning at"), null=True)
    stopped_at = models.DateTimeField(_("stopped at"), null=True)
    state = models.CharField(_("state"), max_length=10, choices=ClockState.choices)
    outcome = models.CharField(_("outcome"), max_length=10, blank=True)
    counted_seconds = models.PositiveIntegerField(_("time counted (seconds)"), default=0)
    pauses = models.JSONField(_("pauses"), default=list, blank=True)
    hops = models.JSONField(_("hops"), default=list, blank=True)
    holder_org = models.ForeignKey("accounts.Organization", on_delete=models.SET_NULL, null=True, related_name="+")
    holder_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    # The role pool of holder_org that holds the hop while no person has taken it (engine.POOLS):
    # its members see the clock in their lists and receive its warning and breach.
    holder_pool = models.CharField(_("held by the pool"), max_length=24, blank=True, default="")
    computed_at = models.DateTimeField(_("computed at"))
    # The sweeper's marks: each set once by a conditional UPDATE that also writes the sweep's token,
    # so the sweep that won the row (and only it) queues the notices.
    warned_at = models.DateTimeField(_("warned at"), null=True, blank=True)
    breach_noticed_at = models.DateTimeField(_("breach noticed at"), null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(_("escalation level reached"), default=0)
    sweep_token = models.CharField(max_length=32, blank=True, editable=False)

    class Meta:
        verbose_name = _("SLA clock")
        verbose_name_plural = _("SLA clocks")
        ordering = ["due_at", "id"]
        constraints = [models.UniqueConstraint(fields=["order", "target"], name="sla_clock_one_per_target")]
        indexes = [
            # The sweeper: running clocks not yet warned / breached, by time. Partial, so the index
            # holds only the clocks still to be marked, not the whole history.
            models.Index(fields=["warn_at"], name="sla_clock_warn_idx",
                         condition=models.Q(state="running", warned_at__isnull=True)),
            models.Index(fields=["due_at"], name="sla_clock_breach_idx",
                         condition=models.Q(state="running", breach_noticed_at__isnull=True)),
            models.Index(fields=["escalation_level", "due_at"], name="sla_clock_escalate_idx",
                         condition=models.Q(state="running", breach_noticed_at__isnull=False)),
            # A sweep reads back the rows its conditional UPDATE stamped: without this index each of
            # its four read-backs scans every clock ever made.
            models.Index(fields=["sweep_token"], name="sla_clock_token_idx"),
            # "My overdue" and "at risk in my organization", by time left.
            models.Index(fields=["holder_user", "due_at"], name="sla_clock_user_idx", condition=models.Q(state="running")),
            models.Index(fields=["holder_org", "warn_at"], name="sla_clock_org_idx", condition=models.Q(state="running")),
            # "Overdue in my pool": an organization's pool queue, by due time.
            models.Index(fields=["holder_org", "holder_pool", "due_at"], name="sla_clock_pool_idx",
                         condition=models.Q(state="running", holder_user__isnull=True)),
            # "Past due now" for the supervisor's overdue tile and list, noticed by the sweep or not.
            models.Index(fields=["due_at"], name="sla_clock_running_due_idx", condition=models.Q(state="running")),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}:{self.target}"

    def state_at(self, now) -> str:
        """The state every answer and page shows: a clock past its due time is breached from that
        moment, whether or not the sweeper has noticed it yet (the stored ``state`` stays
        "running" while the clock still counts, which is what the sweeper's indexes select)."""
        if self.state == ClockState.RUNNING and self.due_at is not None and self.due_at <= now:
            return ClockState.BREACHED
        if self.state == ClockState.PAUSED and self.outcome == ClockState.BREACHED:
            return ClockState.BREACHED
        return self.state

    @property
    def counting(self) -> bool:
        """Still running or paused in its stage (not met, breached on leaving, or cancelled)."""
        return self.state in (ClockState.RUNNING, ClockState.PAUSED)
