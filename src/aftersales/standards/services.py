"""Writes of the service standards: one function per action, each in one audited transaction.

- the catalogue: the shipped version, a new version by an administrator
- teams and briefings: open the day's briefing, one mark per person (点名)
- inspections: the checklist's results with photos, the score, the person's acknowledgement
- conduct: phrases found in what staff write on orders, and the conduct cases they and the
  complaints of 失礼 / 乱收费 open
- cases: propose, approve or reject (the superior), the statement, the appeal and its decision
- training: an exam sitting and the certificate it gives
- first-contact ownership: the reminder of stalled orders (站内通知)
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.accounts.models import User
from aftersales.core.audit import audited
from aftersales.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from aftersales.standards import engine, policies, selectors
from aftersales.standards.models import (
    Attendance,
    Briefing,
    Catalogue,
    Certificate,
    Course,
    ExamAttempt,
    Inspection,
    InspectionLine,
    Presence,
    Result,
    Team,
)

TEXT_LIMIT = 5000


def _text(value, limit: int = TEXT_LIMIT) -> str:
    return (value or "").strip()[:limit]


def _too_long(errors: dict, field: str, value: str, limit: int) -> None:
    if len(value or "") > limit:
        errors[field] = _("At most %(n)s characters.") % {"n": limit}


# --- the catalogue -----------------------------------------------------------------------------

def catalogue_ensure() -> Catalogue:
    """The version in force; the first call stores the shipped catalogue (the seed's standards) as
    version 1. Idempotent: two first calls at once store it once."""
    current = selectors.catalogue_current()
    if current is not None:
        return current
    data = selectors.shipped_catalogue()
    try:
        with transaction.atomic():
            return Catalogue.objects.create(version=1, name=data["name"], data=data, note=data.get("note", "")[:300])
    except IntegrityError:
        return selectors.catalogue_current()


def _check_catalogue(data: dict) -> dict:
    errors = {}
    items = data.get("items")
    if not isinstance(items, list) or not items:
        errors["items"] = _("The catalogue needs at least one item.")
    else:
        codes = set()
        for n, item in enumerate(items):
            if not isinstance(item, dict) or not all(isinstance(item.get(k), str) and item[k].strip()
                                                     for k in ("code", "section", "item", "requirement")):
                errors[f"items[{n}]"] = _("Each item needs a code, a section, an item and a requirement.")
                continue
            if item["code"] in codes:
                errors[f"items[{n}].code"] = _("Codes are unique.")
            codes.add(item["code"])
            if item.get("gender", "") not in ("", "male", "female"):
                errors[f"items[{n}].gender"] = _("male, female or empty")
            if not isinstance(item.get("weight", 1), int) or not 1 <= item.get("weight", 1) <= 10:
                errors[f"items[{n}].weight"] = _("A whole number from 1 to 10.")
    phrases = data.get("forbidden_phrases", [])
    if not isinstance(phrases, list) or any(not isinstance(p, dict) or not isinstance(p.get("phrase"), str)
                                            or not p["phrase"].strip() or len(p["phrase"]) > 60 for p in phrases):
        errors["forbidden_phrases"] = _("Each phrase has 1 to 60 characters.")
    return errors


def catalogue_publish(*, actor, data: dict, note: str = "") -> Catalogue:
    """An administrator's edit saves the next version (the items, the forbidden phrases, ...);
    earlier inspections keep the version they checked."""
    if not policies.may_edit_catalogue(actor):
        raise Forbidden(_("Only administrators edit the standards."))
    base = dict(catalogue_ensure().data)
    base.update({k: v for k, v in data.items() if k in ("items", "four_nos", "service_language",
                                                         "forbidden_phrases", "measures", "name")})
    errors = _check_catalogue(base)
    if len(note) > 300:
        errors["note"] = _("At most %(n)s characters.") % {"n": 300}
    if errors:
        raise ValidationFailed(_("The standards were not saved."), fields=errors)
    with audited(actor):
        last = Catalogue.objects.select_for_update().order_by("-version").first()
        return Catalogue.objects.create(version=last.version + 1, name=base.get("name", last.name)[:100], data=base,
                                        note=note.strip(), created_by=actor)


# --- teams and briefings (例会点名) -----------------------------------------------------------

def team_create(*, actor, organization_id: int, name: str, leader_id: int, member_ids: list[int],
                shift: str = "早班", starts_at: str = "08:00") -> Team:
    """A team of one organization; its supervisor (or an administrator) sets it up. Partners'
    teams are their own organization's."""
    if not (policies.is_administrator(actor) or (policies._is_supervisor(actor)
                                                  and actor.organization_id == organization_id)):
        raise Forbidden(_("Teams are set up by their organization's supervisor."))
    people = User.objects.filter(pk__in=[leader_id, *member_ids], organization_id=organization_id, is_active=True)
    found = {u.pk: u for u in people}
    errors = {}
    if leader_id not in found:
        errors["leader_id"] = _("Not an active person of this organization.")
    missing = [i for i in member_ids if i not in found]
    if missing:
        errors["member_ids"] = _("Not people of this organization: %(ids)s") % {"ids": ", ".join(map(str, missing))}
    if not (name or "").strip() or len(name) > 60:
        errors["name"] = _("1 to 60 characters.")
    try:
        starts_at = time.fromisoformat(starts_at)
    except (TypeError, ValueError):
        errors["starts_at"] = _("A time of day, HH:MM.")
    if errors:
        raise ValidationFailed(_("The team was not saved."), fields=errors)
    try:
        with audited(actor):
            team = Team.objects.create(organization_id=organization_id, name=name.strip(), leader=found[leader_id],
                                       shift=shift[:30], starts_at=starts_at)
            team.members.set([found[i] for i in member_ids])
    except IntegrityError:
        raise Conflict(_("This organization has a team of that name already."), code="duplicate_team") from None
    return team


def _may_run_briefing(actor, team: Team) -> bool:
    return team.leader_id == actor.pk or policies.is_administrator(actor) or (
        policies._is_supervisor(actor) and actor.organization_id == team.organization_id)


def briefing_open(*, actor, team_id: int, day: date | None = None, topics: str = "") -> Briefing:
    """The shift leader opens the day's briefing; opening it again returns the same one (a second
    tap, a retried request) and keeps its marks, adding the topics if given."""
    team = selectors.team_get(actor, team_id)
    if not _may_run_briefing(actor, team):
        raise Forbidden(_("The team's shift leader runs its briefing."))
    errors: dict = {}
    _too_long(errors, "topics", topics, TEXT_LIMIT)
    if errors:
        raise ValidationFailed(_("Nothing was changed."), fields=errors)
    day = day or timezone.localdate()
    with audited(actor):
        briefing, created = Briefing.objects.select_for_update().get_or_create(
            team=team, day=day, defaults={"leader": actor, "opened_at": timezone.now(), "topics": _text(topics)})
        if not created and topics.strip() and topics.strip() != briefing.topics:
            briefing.topics = _text(topics)
            briefing.save(update_fields=["topics"])
    return briefing


def attendance_mark(*, actor, briefing_id: int, person_id: int, status: str) -> Attendance:
    """One tap per person: present, late, absent or on leave. Marking again changes the mark."""
    briefing = selectors.briefing_get(actor, briefing_id)
    if not _may_run_briefing(actor, briefing.team):
        raise Forbidden(_("The team's shift leader runs its briefing."))
    if status not in Presence.values:
        raise ValidationFailed(_("Nothing was changed."), fields={"status": ", ".join(Presence.values)})
    if not briefing.team.members.filter(pk=person_id).exists():
        raise ValidationFailed(_("Nothing was changed."), fields={"person_id": _("Not a member of this team.")})
    with audited(actor):
        mark, created = Attendance.objects.select_for_update().get_or_create(
            briefing=briefing, person_id=person_id, defaults={"status": status, "marked_at": timezone.now()})
        if not created and mark.status != status:
            mark.status = status
            mark.marked_at = timezone.now()
            mark.save(update_fields=["status", "marked_at"])
    return mark


# --- inspections (检查) ------------------------------------------------------------------------

MAX_PHOTO_BYTES = 10 * 1024 * 1024
REPEAT_WINDOW = timedelta(days=90)


def _photo(errors: dict, field: str, upload):
    from aftersales.service.services import sniff_content_type

    if upload is None:
        return None
    size = getattr(upload, "size", 0) or 0
    if size == 0 or size > MAX_PHOTO_BYTES:
        errors[field] = _("The file is larger than 10 MB.") if size else _("The file is empty.")
        return None
    upload.seek(0)
    sniffed = sniff_content_type(upload.read(16))
    upload.seek(0)
    if sniffed is None or not sniffed[0].startswith("image/"):
        errors[field] = _("A photo must be an image.")
        return None
    return sniffed


def inspection_record(*, actor, person_id: int | None = None, workplace: str = "", section: str = "appearance",
                      gender: str = "", results: dict[str, dict], note: str = "", photos: dict | None = None) -> Inspection:
    """检查: ``results`` maps each checklist item's code to {"result": pass|fail|na, "note": ...};
    ``photos`` maps codes to uploaded images. Every item of the checklist needs a result. A fail of
    an item the person failed in the last 90 days is flagged as repeated."""
    if not policies.may_inspect(actor):
        raise Forbidden(_("Inspections are made by supervisors and shift leaders."))
    catalogue = catalogue_ensure()
    errors: dict = {}
    person = None
    if person_id is not None:
        person = User.objects.select_related("organization").filter(pk=person_id, is_active=True).first()
        if person is None or not policies.is_superior_of(actor, person):
            errors["person_id"] = _("Not a person you supervise.")
    elif not workplace.strip():
        errors["person_id"] = _("Name the person or the workplace inspected.")
    if gender not in ("", "male", "female"):
        errors["gender"] = _("male, female or empty")
    items = selectors.checklist(catalogue.data, section=section, gender=gender)
    if not items:
        errors["section"] = _("No item of the standards applies.")
    lines = []
    for item in items:
        given = (results or {}).get(item["code"]) or {}
        result = given.get("result", "")
        if result not in Result.values:
            errors[f"results.{item['code']}"] = _("Choose pass, fail or not applicable.")
            continue
        photo = _photo(errors, f"photos.{item['code']}", (photos or {}).get(item["code"]))
        lines.append((item, result, _text(given.get("note"), 300), photo, (photos or {}).get(item["code"])))
    unknown = set(results or {}) - {i["code"] for i in items}
    if unknown:
        errors["results"] = _("Not items of this checklist: %(codes)s") % {"codes": ", ".join(sorted(unknown))}
    _too_long(errors, "note", note, TEXT_LIMIT)
    _too_long(errors, "workplace", workplace, 100)
    if errors:
        raise ValidationFailed(_("The inspection was not saved."), fields=errors)
    now = timezone.now()
    with audited(actor):
        inspection = Inspection.objects.create(
            catalogue=catalogue, organization_id=(person.organization_id if person else actor.organization_id),
            inspector=actor, person=person, workplace=_text(workplace, 100), section=section, gender=gender, at=now,
            score=engine.checklist_score((i.get("weight", 1), r) for i, r, *_ in lines), note=_text(note))
        failed_before = set()
        if person is not None:
            failed_before = set(InspectionLine.objects.filter(
                inspection__person=person, inspection__at__gte=now - REPEAT_WINDOW, result=Result.FAIL)
                .exclude(inspection=inspection).values_list("code", flat=True))
        for item, result, line_note, sniffed, upload in lines:
            line = InspectionLine(inspection=inspection, code=item["code"], item=item["item"],
                                  requirement=item["requirement"], weight=item.get("weight", 1), result=result,
                                  note=line_note, repeated=result == Result.FAIL and item["code"] in failed_before)
            if sniffed:
                line.content_type, line.extension = sniffed
                line.token = uuid.uuid4().hex
                line.photo.save("upload", upload, save=False)
            line.save()
    return inspection


def inspection_add_photo(*, actor, inspection_id: int, code: str, upload) -> InspectionLine:
    """A photo of one item added after saving (the API sends the checklist as JSON first); by the
    inspector, before the person has acknowledged the result."""
    selectors.inspection_get(actor, inspection_id)
    errors: dict = {}
    sniffed = _photo(errors, "file", upload)
    if upload is None:
        errors["file"] = _("The file is empty.")
    with audited(actor):
        inspection = Inspection.objects.select_for_update().get(pk=inspection_id)
        if inspection.inspector_id != actor.pk or inspection.acknowledged_at is not None:
            raise Forbidden(_("Photos are added by the inspector before the result is acknowledged."))
        line = inspection.lines.filter(code=code).first()
        if line is None:
            errors["code"] = _("Not an item of this inspection.")
        if errors:
            raise ValidationFailed(_("The file was not stored."), fields=errors)
        line.content_type, line.extension = sniffed
        line.token = uuid.uuid4().hex
        line.photo.save("upload", upload, save=False)
        line.save(update_fields=["content_type", "extension", "token", "photo"])
    return line


def inspection_acknowledge(*, actor, inspection_id: int, remark: str = "") -> Inspection:
    """The person inspected acknowledges the result (with a remark if they disagree); once."""
    with audited(actor):
        selectors.inspection_get(actor, inspection_id)  # another person's inspection is a 404
        # Locked by its key: the scoped queryset is DISTINCT, which PostgreSQL cannot lock.
        inspection = Inspection.objects.select_for_update().get(pk=inspection_id)
        if inspection.person_id != actor.pk:
            raise Forbidden(_("Only the person inspected acknowledges the result."))
        if inspection.acknowledged_at is not None:
            raise Conflict(_("The result was acknowledged already."), code="acknowledged")
        if len(remark) > 500:
            raise ValidationFailed(_("Nothing was changed."), fields={"remark": _("At most %(n)s characters.") % {"n": 500}})
        inspection.acknowledged_at = timezone.now()
        inspection.acknowledgement = remark.strip()
        inspection.save(update_fields=["acknowledged_at", "acknowledgement"])
    return inspection


# --- training and certification (培训考核) -----------------------------------------------------

def course_create(*, actor, title: str, post: str = "", category: str = "", material: str = "",
                  questions: list[dict] | None = None, pass_mark: int = 80, valid_months: int = 24) -> Course:
    if not policies.may_manage_training(actor):
        raise Forbidden(_("Courses are set up by supervisors and administrators."))
    from aftersales.core.choices import ProductCategory

    errors: dict = {}
    if not title.strip() or len(title) > 100:
        errors["title"] = _("1 to 100 characters.")
    if category and category not in ProductCategory.values:
        errors["category"] = ", ".join(ProductCategory.values)
    for n, q in enumerate(questions or []):
        opts = q.get("options") if isinstance(q, dict) else None
        if not isinstance(opts, list) or len(opts) < 2 or not isinstance(q.get("answer"), int) \
                or not 0 <= q["answer"] < len(opts) or not str(q.get("q", "")).strip():
            errors[f"questions[{n}]"] = _("A question, two or more options and the index of the right one.")
    if not 1 <= pass_mark <= 100:
        errors["pass_mark"] = _("1 to 100")
    if not 1 <= valid_months <= 120:
        errors["valid_months"] = _("1 to 120")
    if errors:
        raise ValidationFailed(_("The course was not saved."), fields=errors)
    with audited(actor):
        return Course.objects.create(title=title.strip(), post=post, category=category, material=material,
                                     questions=questions or [], pass_mark=pass_mark, valid_months=valid_months)


def exam_submit(*, actor, course_id: int, answers: list[int]) -> ExamAttempt:
    """One sitting: the share of right answers; at the pass mark or above the person gets (or
    renews) the course's certificate."""
    course = Course.objects.filter(pk=course_id).first()
    if course is None:
        raise NotFound(_("Course not found."))
    if not course.questions:
        raise ValidationFailed(_("The course has no exam."), fields={"course_id": _("No questions.")})
    if len(answers) != len(course.questions):
        raise ValidationFailed(_("Nothing was saved."), fields={"answers": _("Answer every question (%(n)s).") % {
            "n": len(course.questions)}})
    right = sum(1 for q, a in zip(course.questions, answers) if a == q["answer"])
    score = round(100 * right / len(course.questions))
    today = timezone.localdate()
    with audited(actor):
        attempt = ExamAttempt.objects.create(course=course, person=actor, at=timezone.now(), score=score,
                                             passed=score >= course.pass_mark, answers=list(answers))
        if attempt.passed:
            months = course.valid_months
            y, m = divmod(today.month - 1 + months, 12)
            expires = _safe_date(today.year + y, m + 1, today.day)
            Certificate.objects.create(person=actor, course=course, category=course.category, issued_on=today,
                                       expires_on=expires, attempt=attempt)
    return attempt


def certificate_grant(*, actor, person_id: int, course_id: int, issued_on: date | None = None) -> Certificate:
    """A supervisor records a certificate earned outside the system (a paper exam)."""
    if not policies.may_manage_training(actor):
        raise Forbidden(_("Certificates are recorded by supervisors and administrators."))
    person = User.objects.filter(pk=person_id).first()
    course = Course.objects.filter(pk=course_id).first()
    if person is None or not policies.is_superior_of(actor, person):
        raise NotFound(_("Person not found."))
    if course is None:
        raise ValidationFailed(_("Nothing was saved."), fields={"course_id": _("Unknown course.")})
    issued = issued_on or timezone.localdate()
    y, m = divmod(issued.month - 1 + course.valid_months, 12)
    with audited(actor):
        return Certificate.objects.create(person=person, course=course, category=course.category, issued_on=issued,
                                          expires_on=_safe_date(issued.year + y, m + 1, issued.day))


def _safe_date(year: int, month: int, day: int) -> date:
    import calendar

    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def uncertified_concern(technician, order) -> str:
    """培训考核 for the service app's assignment (registered in StandardsConfig.ready): where the
    company certifies the machine's product category, a technician without a valid certificate for
    it is assigned only with a reason."""
    category = order.machine.model.category if order.machine_id else ""
    if not selectors.certification_required(category):
        return ""
    if category in selectors.certified_categories([technician.pk]).get(technician.pk, set()):
        return ""
    return _("%(name)s holds no valid certificate for this machine's category: give the reason in the note.") % {
        "name": technician}


# --- first-contact ownership (首问负责) ---------------------------------------------------------

def ownership_remind_stalled(*, now: datetime | None = None) -> int:
    """Tell each owner, once a day, of their requests held elsewhere that nobody moved for 48
    hours (站内通知 behind the bell). Idempotent per owner, order and day."""
    from aftersales.notify.inbox import inbox_add_many
    from aftersales.notify.models import Notification
    from aftersales.service.models import OPEN_STATUSES, OrderStatus, ServiceOrder

    now = now or timezone.now()
    stalled = list(ServiceOrder.objects.filter(status__in=OPEN_STATUSES, updated_at__lte=now - selectors.STALL_AFTER)
                   .exclude(status=OrderStatus.NEW).values_list("pk", "owner_id", "number"))
    since = now - timedelta(hours=24)
    told = set(Notification.objects.filter(kind="ownership_stalled", created_at__gte=since,
                                           order_id__in=[pk for pk, *_ in stalled]).values_list("user_id", "order_id"))
    notes = [(owner_id, pk, "ownership_stalled", {"number": number}, now) for pk, owner_id, number in stalled
             if (owner_id, pk) not in told]
    with transaction.atomic():
        inbox_add_many(notes)
    return len(notes)
