"""服务规范: the staff standards of the seed kept as data, and what the supervisors record against
them: inspections (检查), briefings with roll call (例会点名), conduct hits of the service language
(文明用语), violation and commendation cases (违规处理与表扬), training and certificates (培训考核)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from aftersales.core.choices import ProductCategory


class Catalogue(models.Model):
    """服务规范版本: one version of the standards catalogue (items per post and gender, the 四不准,
    the service language and the forbidden phrases), stored as data like the warranty policy.

    Versions are never edited in place: an administrator's change saves a new version, so every
    inspection that names its version can be read later against the requirements it checked."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    name = models.CharField(_("name"), max_length=100)
    data = models.JSONField(_("standards"))
    note = models.CharField(_("change note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("standards catalogue version")
        verbose_name_plural = _("standards catalogue versions")
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    def item(self, code: str) -> dict | None:
        return next((i for i in self.data.get("items", []) if i["code"] == code), None)


class Team(models.Model):
    """班组: the people one shift leader (值班领班) calls the roll of at the daily briefing."""

    organization = models.ForeignKey("accounts.Organization", verbose_name=_("organization"), on_delete=models.PROTECT,
                                     related_name="teams")
    name = models.CharField(_("name"), max_length=60)
    shift = models.CharField(_("shift"), max_length=30, default="早班")
    starts_at = models.TimeField(_("briefing time"), default="08:00")
    leader = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("shift leader"), on_delete=models.PROTECT,
                               related_name="led_teams")
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("members"), related_name="teams",
                                     blank=True)

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["organization", "name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="team_unique_name")]

    def __str__(self) -> str:
        return self.name


class Briefing(models.Model):
    """上班例会: one team's daily briefing, opened by the shift leader, with its topics."""

    team = models.ForeignKey(Team, verbose_name=_("team"), on_delete=models.PROTECT, related_name="briefings")
    day = models.DateField(_("day"))
    leader = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("shift leader"), on_delete=models.PROTECT,
                               related_name="+")
    opened_at = models.DateTimeField(_("opened at"))
    topics = models.TextField(_("topics"), blank=True)

    class Meta:
        verbose_name = _("briefing")
        verbose_name_plural = _("briefings")
        ordering = ["-day", "team"]
        constraints = [models.UniqueConstraint(fields=["team", "day"], name="briefing_one_per_team_day")]


class Presence(models.TextChoices):
    PRESENT = "present", _("Present")
    LATE = "late", _("Late")
    ABSENT = "absent", _("Absent")
    LEAVE = "leave", _("On leave")


class Attendance(models.Model):
    """点名: one person's mark at one briefing; the attendance record the scorecard counts."""

    briefing = models.ForeignKey(Briefing, on_delete=models.CASCADE, related_name="marks")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("person"), on_delete=models.PROTECT,
                               related_name="attendance")
    status = models.CharField(_("attendance"), max_length=8, choices=Presence.choices)
    marked_at = models.DateTimeField(_("marked at"))

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        constraints = [models.UniqueConstraint(fields=["briefing", "person"], name="attendance_one_per_person")]
        # The month's late/absent count per person (the three-a-month flag and the scorecard).
        indexes = [models.Index(fields=["person", "status"], name="attendance_person_idx")]


class Inspection(models.Model):
    """检查: a supervisor's or shift leader's check of a person (or a workplace) against the
    catalogue version it names; the person acknowledges the result."""

    catalogue = models.ForeignKey(Catalogue, verbose_name=_("standards version"), on_delete=models.PROTECT,
                                  related_name="inspections")
    organization = models.ForeignKey("accounts.Organization", verbose_name=_("organization"),
                                     on_delete=models.PROTECT, related_name="+")
    inspector = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("inspector"), on_delete=models.PROTECT,
                                  related_name="+")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("person inspected"), on_delete=models.PROTECT,
                               null=True, blank=True, related_name="inspections")
    workplace = models.CharField(_("workplace"), max_length=100, blank=True)
    section = models.CharField(_("section"), max_length=20, default="appearance")
    gender = models.CharField(_("gender"), max_length=8, blank=True)
    at = models.DateTimeField(_("inspected at"))
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=1)
    note = models.TextField(_("note"), blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledgement = models.CharField(_("person's remark"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["person", "at"], name="inspection_person_idx")]


class Result(models.TextChoices):
    PASS = "pass", _("Pass")
    FAIL = "fail", _("Fail")
    NA = "na", _("Not applicable")


def photo_path(instance, filename: str) -> str:
    # Never the client's name: see service.models.attachment_path.
    return f"inspections/{instance.inspection_id}/{instance.token}{instance.extension}"


class InspectionLine(models.Model):
    """检查项: one requirement of the checklist with its result, note and photo."""

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="lines")
    code = models.CharField(_("item"), max_length=30)
    item = models.CharField(_("item"), max_length=60)
    requirement = models.TextField(_("requirement"))
    weight = models.PositiveSmallIntegerField(_("weight"), default=1)
    result = models.CharField(_("result"), max_length=4, choices=Result.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    repeated = models.BooleanField(_("repeated failure"), default=False)
    token = models.CharField(max_length=32, blank=True)
    extension = models.CharField(max_length=8, blank=True)
    content_type = models.CharField(max_length=40, blank=True)
    photo = models.FileField(_("photo"), upload_to=photo_path, max_length=200, blank=True)

    class Meta:
        ordering = ["inspection", "id"]


class PhraseHit(models.Model):
    """用语提示: a forbidden or brush-off phrase found in a text a person wrote to or about a
    customer. ``saved``: written although the hint was shown (the check alone records nothing)."""

    person = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("person"), on_delete=models.PROTECT,
                               related_name="phrase_hits")
    order = models.ForeignKey("service.ServiceOrder", verbose_name=_("service order"), on_delete=models.PROTECT,
                              null=True, blank=True, related_name="+")
    where = models.CharField(_("where"), max_length=30)
    phrase = models.CharField(_("phrase"), max_length=60)
    kind = models.CharField(_("kind"), max_length=12)
    excerpt = models.CharField(_("excerpt"), max_length=200)
    at = models.DateTimeField(_("time"))

    class Meta:
        verbose_name = _("phrase hit")
        verbose_name_plural = _("phrase hits")
        ordering = ["-at"]
        indexes = [models.Index(fields=["person", "at"], name="phrasehit_person_idx")]


class CaseKind(models.TextChoices):
    VIOLATION = "violation", _("Violation")
    COMMENDATION = "commendation", _("Commendation")


class CaseStatus(models.TextChoices):
    PROPOSED = "proposed", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    APPEALED = "appealed", _("Appealed")
    UPHELD = "upheld", _("Appeal dismissed")
    REVOKED = "revoked", _("Revoked on appeal")


class Measure(models.TextChoices):
    """处理措施 by severity (seed line 130); praise is 表扬 or 奖励 (line 89)."""

    VERBAL_WARNING = "verbal_warning", _("Verbal warning")
    WRITTEN_WARNING = "written_warning", _("Written warning")
    DEMOTION = "demotion", _("Demotion")
    DISMISSAL = "dismissal", _("Dismissal")
    PRAISE = "praise", _("Praise")
    REWARD = "reward", _("Reward")


VIOLATION_MEASURES = (Measure.VERBAL_WARNING, Measure.WRITTEN_WARNING, Measure.DEMOTION, Measure.DISMISSAL)
COMMENDATION_MEASURES = (Measure.PRAISE, Measure.REWARD)


class CaseSource(models.TextChoices):
    MANUAL = "manual", _("Recorded by a superior")
    COMPLAINT = "complaint", _("Customer complaint")
    PHRASE = "phrase", _("Service language")
    INSPECTION = "inspection", _("Inspection")
    RATING = "rating", _("Customer rating")


class Case(models.Model):
    """违规处理 / 表扬: a violation or a commendation of one person, with the rule, the evidence, the
    measure, the superior's approval (recorded and archived, 业务操作审批), the person's statement
    and an appeal."""

    number = models.CharField(_("number"), max_length=20, unique=True, null=True, blank=True)
    kind = models.CharField(_("kind"), max_length=12, choices=CaseKind.choices)
    source = models.CharField(_("source"), max_length=12, choices=CaseSource.choices, default=CaseSource.MANUAL)
    status = models.CharField(_("status"), max_length=10, choices=CaseStatus.choices, default=CaseStatus.PROPOSED)
    person = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("person"), on_delete=models.PROTECT,
                               related_name="standards_cases")
    organization = models.ForeignKey("accounts.Organization", verbose_name=_("organization"),
                                     on_delete=models.PROTECT, related_name="+")
    rule = models.CharField(_("rule"), max_length=30, blank=True, help_text=_("A catalogue item or a 四不准 code."))
    rule_text = models.CharField(_("rule"), max_length=300, blank=True)
    catalogue = models.ForeignKey(Catalogue, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    description = models.TextField(_("what happened"))
    order = models.ForeignKey("service.ServiceOrder", verbose_name=_("order"), on_delete=models.PROTECT, null=True,
                              blank=True, related_name="+")
    complaint_order = models.ForeignKey("service.ServiceOrder", verbose_name=_("complaint"), on_delete=models.PROTECT,
                                        null=True, blank=True, related_name="+")
    inspection = models.ForeignKey(Inspection, verbose_name=_("inspection"), on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+")
    phrase_hit = models.ForeignKey(PhraseHit, verbose_name=_("phrase hit"), on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+")
    measure = models.CharField(_("measure"), max_length=16, choices=Measure.choices)
    points = models.SmallIntegerField(_("points"), default=0)
    fine = models.DecimalField(_("fine or reward (yuan)"), max_digits=9, decimal_places=2, default=0)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("proposed by"), on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+")
    proposed_at = models.DateTimeField(_("proposed at"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("approved by"), on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=500, blank=True)
    statement = models.TextField(_("person's statement"), blank=True)
    appeal = models.TextField(_("appeal"), blank=True)
    appeal_decision = models.CharField(_("appeal decision"), max_length=500, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("conduct case")
        verbose_name_plural = _("conduct cases")
        ordering = ["-proposed_at", "-id"]
        indexes = [models.Index(fields=["person", "proposed_at"], name="case_person_idx")]
        constraints = [
            # A complaint opens one conduct case, however often its hook runs.
            models.UniqueConstraint(fields=["complaint_order"], condition=models.Q(complaint_order__isnull=False),
                                    name="case_one_per_complaint"),
        ]

    def __str__(self) -> str:
        return self.number or f"#{self.pk}"


class CaseEvent(models.Model):
    """审批记录: every step of a case, kept as the archive 业务操作审批 asks for."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("time"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    action = models.CharField(_("action"), max_length=20)
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10, blank=True)
    text = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]


class Course(models.Model):
    """培训课程: training for a post and, where it concerns machines, a product category, with its
    material, question bank and pass mark; passing gives a certificate valid ``valid_months``."""

    title = models.CharField(_("title"), max_length=100)
    post = models.CharField(_("post"), max_length=32, blank=True)
    category = models.CharField(_("product category"), max_length=32, choices=ProductCategory.choices, blank=True)
    material = models.TextField(_("material"), blank=True)
    questions = models.JSONField(_("question bank"), default=list,
                                 help_text=_('[{"q": "...", "options": ["...", "..."], "answer": 0}, ...]'))
    pass_mark = models.PositiveSmallIntegerField(_("pass mark (%)"), default=80)
    valid_months = models.PositiveSmallIntegerField(_("valid for (months)"), default=24)

    class Meta:
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class ExamAttempt(models.Model):
    """考核: one sitting of a course's exam."""

    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="attempts")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="exam_attempts")
    at = models.DateTimeField(_("time"))
    score = models.PositiveSmallIntegerField(_("score (%)"))
    passed = models.BooleanField(_("passed"))
    answers = models.JSONField(default=list)

    class Meta:
        ordering = ["-at"]


class Certificate(models.Model):
    """上岗证书: the person passed the course; valid until ``expires_on``."""

    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="certificates")
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="certificates")
    category = models.CharField(_("product category"), max_length=32, blank=True)
    issued_on = models.DateField(_("issued on"))
    expires_on = models.DateField(_("expires on"))
    attempt = models.ForeignKey(ExamAttempt, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        ordering = ["-expires_on"]
        indexes = [models.Index(fields=["person", "category", "expires_on"], name="certificate_lookup_idx")]
