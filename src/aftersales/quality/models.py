"""质量问题单 and 服务活动: what the technical centre does with a batch that fails too often."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class QualityRule(models.Model):
    """批量问题预警规则: the thresholds of the batch alarm, editable by administrators. The newest
    row is the one in force; the scan records which one it used in each issue."""

    window_days = models.PositiveIntegerField(_("window (days)"), default=365)
    min_failures = models.PositiveIntegerField(_("minimum failures"), default=3)
    p_value = models.FloatField(_("p-value threshold"), default=0.001)
    min_ratio = models.FloatField(_("minimum ratio to expected"), default=2.0)
    serial_prefix_length = models.PositiveIntegerField(
        _("batch: serial prefix length"), default=0,
        help_text=_("0: the serial number without its last group (LX904-2406-0137 -> LX904-2406)."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("quality alarm rule")
        verbose_name_plural = _("quality alarm rules")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"p<{self.p_value} ≥{self.min_failures} ×{self.min_ratio} / {self.window_days}d"


class IssueStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ANALYSING = "analysing", _("Analysing")
    COUNTERMEASURE = "countermeasure", _("Countermeasure")
    VERIFIED = "verified", _("Verified")
    CLOSED = "closed", _("Closed")


OPEN_ISSUE_STATUSES = (IssueStatus.OPEN, IssueStatus.ANALYSING, IssueStatus.COUNTERMEASURE, IssueStatus.VERIFIED)


class IssueSource(models.TextChoices):
    ALARM = "alarm", _("Batch alarm")
    MANUAL = "manual", _("Reported by a person")


class QualityIssue(models.Model):
    """质量问题单: a product-quality problem for the technical centre, with the orders and the batch
    behind it, its analysis, the countermeasure and its verification."""

    number = models.CharField(_("number"), max_length=20, unique=True, null=True, blank=True)
    title = models.CharField(_("title"), max_length=200)
    source = models.CharField(_("source"), max_length=10, choices=IssueSource.choices)
    status = models.CharField(_("status"), max_length=16, choices=IssueStatus.choices, default=IssueStatus.OPEN)
    model = models.ForeignKey("registry.ProductModel", verbose_name=_("product model"), on_delete=models.PROTECT,
                              related_name="quality_issues")
    component = models.CharField(_("component"), max_length=40)
    batch = models.CharField(_("production batch"), max_length=40, blank=True)
    machines_in_field = models.PositiveIntegerField(_("machines in the field"), default=0)
    failures = models.PositiveIntegerField(_("failures"), default=0)
    expected = models.FloatField(_("expected failures"), null=True, blank=True)
    p_value = models.FloatField(_("p-value"), null=True, blank=True)
    rule = models.ForeignKey(QualityRule, verbose_name=_("rule"), on_delete=models.PROTECT, null=True, blank=True)
    description = models.TextField(_("description"), blank=True)
    analysis = models.TextField(_("analysis"), blank=True)
    countermeasure = models.TextField(_("countermeasure"), blank=True)
    verification = models.TextField(_("verification"), blank=True)
    orders = models.ManyToManyField("service.ServiceOrder", verbose_name=_("orders"), related_name="quality_issues",
                                    blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("engineer"), on_delete=models.PROTECT,
                              null=True, blank=True, related_name="+")
    detected_at = models.DateTimeField(_("detected at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("quality issue")
        verbose_name_plural = _("quality issues")
        ordering = ["-detected_at", "-id"]
        constraints = [
            # One issue at a time per batch and component: a new alarm updates it, it does not open another.
            models.UniqueConstraint(fields=["model", "component", "batch"], condition=~models.Q(status="closed"),
                                    name="quality_issue_one_open_per_batch"),
        ]

    def __str__(self) -> str:
        return self.number or self.title


class QualityIssueEvent(models.Model):
    """质量问题单日志: one step of the issue's life (detected, updated by a scan, each action)."""

    issue = models.ForeignKey(QualityIssue, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("time"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    action = models.CharField(_("action"), max_length=30)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]


class CampaignStatus(models.TextChoices):
    RUNNING = "running", _("Creating orders")
    DONE = "done", _("Orders created")


class Campaign(models.Model):
    """服务活动 / 召回: an inspection or repair of every affected machine in the field, one service
    order each, created in batches by the worker; a retry never creates a second order."""

    issue = models.ForeignKey(QualityIssue, verbose_name=_("quality issue"), on_delete=models.PROTECT,
                              related_name="campaigns")
    title = models.CharField(_("title"), max_length=200)
    instructions = models.TextField(_("instructions"))
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("first-contact owner"), on_delete=models.PROTECT,
                              related_name="+", help_text=_("The orders are recorded in this person's name."))
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.RUNNING)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("service campaign")
        verbose_name_plural = _("service campaigns")
        ordering = ["-started_at"]


class CampaignTarget(models.Model):
    """One machine of a campaign and the order made for it (empty until its batch runs)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="targets")
    machine = models.ForeignKey("registry.Machine", on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey("service.ServiceOrder", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    skipped = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "machine"], name="campaign_target_once")]
        indexes = [models.Index(fields=["campaign", "order"], name="campaign_target_todo_idx")]


class QualityScan(models.Model):
    """One run of the batch alarm: when, and what it found. The worker scans once a day."""

    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    alarms = models.PositiveIntegerField(_("alarms"), default=0)
    opened = models.PositiveIntegerField(_("issues opened"), default=0)
    updated = models.PositiveIntegerField(_("issues updated"), default=0)

    class Meta:
        verbose_name = _("batch alarm scan")
        verbose_name_plural = _("batch alarm scans")
        ordering = ["-started_at"]
