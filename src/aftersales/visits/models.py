"""Return visits (回访, 定期回访): the tasks the rules create, the scripted questionnaire, the
answers, and the provinces' busy seasons (农忙季节) the pre-season checks are timed by."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class VisitKind(models.TextChoices):
    AFTER_SERVICE = "after_service", _("After a completed service")
    AFTER_COMPLAINT = "after_complaint", _("After a closed complaint")
    KEY_ACCOUNT = "key_account", _("Key account, quarterly")
    PRE_SEASON = "pre_season", _("Before the busy season")


class VisitStatus(models.TextChoices):
    OPEN = "open", _("To call")
    DONE = "done", _("Reached")
    REFUSED = "refused", _("Refused")
    UNREACHABLE = "unreachable", _("Not reached")


class Outcome(models.TextChoices):
    REACHED = "reached", _("Reached")
    NOT_REACHED = "not_reached", _("Not reached")
    REFUSED = "refused", _("Refused")


class AnswerType(models.TextChoices):
    SCORE = "score", _("Score 1–5")
    YES_NO = "yes_no", _("Yes / no")
    TEXT = "text", _("Text")


class Season(models.Model):
    """农忙季节: one province's busy season for some machine categories (三夏麦收, 秋收, 春耕...).
    Days are month and day, so the calendar is the same every year."""

    province = models.CharField(_("province"), max_length=20)
    name = models.CharField(_("name"), max_length=40)
    start_month = models.PositiveSmallIntegerField(_("start month"))
    start_day = models.PositiveSmallIntegerField(_("start day"))
    end_month = models.PositiveSmallIntegerField(_("end month"))
    end_day = models.PositiveSmallIntegerField(_("end day"))
    categories = models.JSONField(_("product categories"), default=list,
                                  help_text=_("The machine categories that work this season (core.choices.ProductCategory)."))
    lead_days = models.PositiveSmallIntegerField(_("call this many days before"), default=21)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("busy season")
        verbose_name_plural = _("busy seasons")
        ordering = ["province", "start_month", "start_day"]
        constraints = [
            models.CheckConstraint(condition=models.Q(start_month__gte=1, start_month__lte=12, end_month__gte=1,
                                                      end_month__lte=12, start_day__gte=1, start_day__lte=31,
                                                      end_day__gte=1, end_day__lte=31), name="season_days_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.province} {self.name}"


class VisitQuestion(models.Model):
    """回访问卷: one scripted question the visiting agent reads out, with the type of its answer."""

    text = models.CharField(_("question"), max_length=300)
    answer_type = models.CharField(_("answer type"), max_length=10, choices=AnswerType.choices)
    kinds = models.JSONField(_("visit kinds"), default=list, blank=True,
                             help_text=_("Asked in these kinds of visit; empty: in every visit."))
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    # A satisfaction score counts towards the satisfaction measures, and a low one opens a complaint.
    is_satisfaction = models.BooleanField(_("satisfaction score"), default=False)

    class Meta:
        verbose_name = _("visit question")
        verbose_name_plural = _("visit questions")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.text


class VisitTask(models.Model):
    """回访任务: one call to one customer, made by a rule; the worklist shows the open ones due."""

    kind = models.CharField(_("kind"), max_length=20, choices=VisitKind.choices)
    # What made it, once: ``order:12``, ``complaint:40``, ``key:7:2026Q4``, ``season:3:2026:7``.
    source_key = models.CharField(max_length=80, unique=True)
    customer = models.ForeignKey("registry.Customer", verbose_name=_("customer"), on_delete=models.PROTECT,
                                 related_name="visit_tasks")
    order = models.ForeignKey("service.ServiceOrder", verbose_name=_("service order"), on_delete=models.PROTECT,
                              null=True, blank=True, related_name="visit_tasks")
    machine = models.ForeignKey("registry.Machine", verbose_name=_("machine"), on_delete=models.PROTECT,
                                null=True, blank=True, related_name="visit_tasks")
    season = models.ForeignKey(Season, verbose_name=_("busy season"), on_delete=models.PROTECT, null=True, blank=True)
    due_on = models.DateField(_("due on"))
    status = models.CharField(_("status"), max_length=12, choices=VisitStatus.choices, default=VisitStatus.OPEN)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    retry_at = models.DateTimeField(_("call again at"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    finished_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("visited by"), on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+")
    note = models.TextField(_("note"), blank=True)
    score = models.PositiveSmallIntegerField(_("satisfaction"), null=True, blank=True)
    # Who makes the call: claimed by an agent or assigned by a supervisor; empty, anyone may take it.
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("assigned to"), on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="visit_tasks")
    complaint = models.ForeignKey("service.ServiceOrder", verbose_name=_("complaint opened"), on_delete=models.PROTECT,
                                  null=True, blank=True, related_name="+")
    repair = models.ForeignKey("service.ServiceOrder", verbose_name=_("repair opened"), on_delete=models.PROTECT,
                               null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("return visit")
        verbose_name_plural = _("return visits")
        ordering = ["due_on", "id"]
        indexes = [
            # The worklist: open tasks due by a day, oldest first.
            models.Index(fields=["status", "due_on"], name="visit_status_due_idx"),
            # "My visits": one agent's open tasks by day.
            models.Index(fields=["assigned_to", "status", "due_on"], name="visit_assignee_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class VisitAttempt(models.Model):
    """One call of a visit: its outcome, who called, when to call again."""

    task = models.ForeignKey(VisitTask, on_delete=models.CASCADE, related_name="attempt_log")
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices)
    at = models.DateTimeField(_("at"), auto_now_add=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    retry_at = models.DateTimeField(_("call again at"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["at", "id"]


class VisitAnswer(models.Model):
    """回访记录: one answer; the question's text is copied, so editing the script keeps the record."""

    task = models.ForeignKey(VisitTask, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(VisitQuestion, on_delete=models.SET_NULL, null=True, related_name="+")
    question_text = models.CharField(max_length=300)
    answer_type = models.CharField(max_length=10, choices=AnswerType.choices)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    yes = models.BooleanField(null=True, blank=True)
    text = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]


class PlanRun(models.Model):
    """The day the rules last planned visits for: the worker's daily task runs once per day."""

    day = models.DateField(unique=True)
    created = models.JSONField(default=dict)
    at = models.DateTimeField(auto_now_add=True)
