"""The service standards API: the catalogue, briefings and roll call, inspections, the conduct
check, conduct cases with their approval and appeal, training, scorecards and first-contact
ownership. 服务规范、例会点名、检查、违规处理与表扬、培训考核、月度考核。"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from aftersales.api.errors import COMMON_ERRORS, ErrorOut
from aftersales.core.types import DbInt
from aftersales.standards import cases, scorecards, selectors, services
from aftersales.standards.models import Case, Inspection

router = Router(tags=["Standards"])


class CatalogueOut(Schema):
    version: int
    name: str
    note: str
    data: dict = Field(..., description="items (code, section, post, gender, item, requirement, weight, source line "
                                        "of the seed), four_nos, service_language, forbidden_phrases, measures")


class CatalogueIn(Schema):
    items: list[dict] | None = None
    forbidden_phrases: list[dict] | None = None
    service_language: list[dict] | None = None
    note: str = Field("", max_length=300)


def _catalogue(c) -> dict:
    return {"version": c.version, "name": c.name, "note": c.note, "data": c.data}


@router.get("/standards/catalogue", response={200: CatalogueOut, **COMMON_ERRORS},
            summary="The standards in force / 现行服务规范")
def catalogue_get(request):
    return _catalogue(services.catalogue_ensure())


@router.post("/standards/catalogue", response={201: CatalogueOut, **COMMON_ERRORS},
             summary="Publish a new version of the standards / 发布服务规范新版本")
def catalogue_publish(request, payload: CatalogueIn):
    """Administrators only. Parts left out are kept from the version in force; inspections keep
    the version they checked."""
    data = {k: v for k, v in payload.model_dump().items() if k != "note" and v is not None}
    return Status(201, _catalogue(services.catalogue_publish(actor=request.user, data=data, note=payload.note)))


class CheckIn(Schema):
    text: str = Field(..., max_length=5000)


class HitOut(Schema):
    phrase: str
    kind: str
    rule: str


@router.post("/standards/conduct/check", response={200: list[HitOut], **COMMON_ERRORS},
             summary="Check a text for forbidden phrases / 文明用语检查")
def conduct_check(request, payload: CheckIn):
    """What the writer is shown before saving; nothing is recorded. A text saved on an order
    with a hit is counted and opens a conduct case."""
    return [{"phrase": h.phrase, "kind": h.kind, "rule": h.rule} for h in cases.conduct_check(payload.text)]


class TeamIn(Schema):
    organization_id: DbInt
    name: str = Field(..., max_length=60)
    leader_id: DbInt
    member_ids: list[DbInt] = []
    shift: str = Field("早班", max_length=30)
    starts_at: str = Field("08:00", pattern=r"^\d{2}:\d{2}$")


class TeamOut(Schema):
    id: int
    organization_id: DbInt
    name: str
    shift: str
    leader_id: DbInt
    member_ids: list[int]


def _team(t) -> dict:
    return {"id": t.pk, "organization_id": t.organization_id, "name": t.name, "shift": t.shift,
            "leader_id": t.leader_id, "member_ids": sorted(t.members.values_list("pk", flat=True))}


@router.get("/standards/teams", response={200: list[TeamOut], **COMMON_ERRORS}, summary="Teams / 班组")
def team_list(request):
    return [_team(t) for t in selectors.team_queryset(request.user)]


@router.post("/standards/teams", response={201: TeamOut, 409: ErrorOut, **COMMON_ERRORS},
             summary="Set up a team / 新建班组")
def team_create(request, payload: TeamIn):
    return Status(201, _team(services.team_create(actor=request.user, **payload.model_dump())))


class BriefingIn(Schema):
    team_id: DbInt
    day: date | None = None
    topics: str = Field("", max_length=5000)


class MarkOut(Schema):
    person_id: DbInt
    name: str
    status: str
    late_absent_this_month: int
    flagged: bool


class BriefingOut(Schema):
    id: int
    team_id: DbInt
    day: date
    leader_id: DbInt
    topics: str
    roll: list[MarkOut]


def _briefing(b) -> dict:
    return {"id": b.pk, "team_id": b.team_id, "day": b.day, "leader_id": b.leader_id, "topics": b.topics,
            "roll": [{"person_id": r["person"].pk, "name": str(r["person"]), "status": r["status"],
                      "late_absent_this_month": r["late_absent"], "flagged": r["flagged"]}
                     for r in selectors.roll_call(b)]}


@router.post("/standards/briefings", response={200: BriefingOut, **COMMON_ERRORS},
             summary="Open the day's briefing / 开例会")
def briefing_open(request, payload: BriefingIn):
    """Opening the same team's briefing of the same day again returns it (a retry is harmless)."""
    return _briefing(services.briefing_open(actor=request.user, **payload.model_dump()))


@router.get("/standards/briefings/{briefing_id}", response={200: BriefingOut, **COMMON_ERRORS},
            summary="A briefing with its roll call")
def briefing_get(request, briefing_id: DbInt):
    return _briefing(selectors.briefing_get(request.user, briefing_id))


class MarkIn(Schema):
    person_id: DbInt
    status: Literal["present", "late", "absent", "leave"]


@router.post("/standards/briefings/{briefing_id}/marks", response={200: BriefingOut, **COMMON_ERRORS},
             summary="Mark a person at the roll call / 点名")
def attendance_mark(request, briefing_id: DbInt, payload: MarkIn):
    services.attendance_mark(actor=request.user, briefing_id=briefing_id, **payload.model_dump())
    return _briefing(selectors.briefing_get(request.user, briefing_id))


class LineIn(Schema):
    result: Literal["pass", "fail", "na"]
    note: str = Field("", max_length=300)


class InspectionIn(Schema):
    person_id: DbInt | None = None
    workplace: str = Field("", max_length=100)
    section: str = "appearance"
    gender: Literal["", "male", "female"] = ""
    results: dict[str, LineIn] = Field(..., description="item code -> result (photos are added on the page)")
    note: str = Field("", max_length=5000)


class LineOut(Schema):
    code: str
    item: str
    requirement: str
    weight: int
    result: str
    note: str
    repeated: bool
    has_photo: bool


class InspectionOut(Schema):
    id: int
    catalogue_version: int
    person_id: int | None
    workplace: str
    inspector_id: int
    at: datetime
    score: Decimal
    acknowledged_at: datetime | None
    acknowledgement: str
    lines: list[LineOut]


def _inspection(i: Inspection) -> dict:
    return {"id": i.pk, "catalogue_version": i.catalogue.version, "person_id": i.person_id, "workplace": i.workplace,
            "inspector_id": i.inspector_id, "at": i.at, "score": i.score, "acknowledged_at": i.acknowledged_at,
            "acknowledgement": i.acknowledgement,
            "lines": [{"code": ln.code, "item": ln.item, "requirement": ln.requirement, "weight": ln.weight,
                       "result": ln.result, "note": ln.note, "repeated": ln.repeated, "has_photo": bool(ln.photo)}
                      for ln in i.lines.all()]}


@router.get("/standards/inspections", response={200: list[InspectionOut], **COMMON_ERRORS},
            summary="Inspections you may see / 检查记录")
def inspection_list(request, person_id: DbInt | None = None, limit: int = Query(100, ge=1, le=500)):
    qs = selectors.inspection_queryset(request.user).prefetch_related("lines")
    if person_id is not None:
        qs = qs.filter(person_id=person_id)
    return [_inspection(i) for i in qs[:limit]]


@router.post("/standards/inspections", response={201: InspectionOut, **COMMON_ERRORS},
             summary="Record an inspection / 记录检查")
def inspection_create(request, payload: InspectionIn):
    data = payload.model_dump()
    inspection = services.inspection_record(actor=request.user, **data)
    return Status(201, _inspection(inspection))


@router.get("/standards/inspections/{inspection_id}", response={200: InspectionOut, **COMMON_ERRORS},
            summary="An inspection")
def inspection_get(request, inspection_id: DbInt):
    return _inspection(selectors.inspection_get(request.user, inspection_id))


@router.post("/standards/inspections/{inspection_id}/photos", response={200: InspectionOut, **COMMON_ERRORS},
             summary="Add a photo to an item of an inspection / 检查照片")
def inspection_photo(request, inspection_id: DbInt, file: File[UploadedFile], code: Form[str]):
    """A JPEG, PNG or WebP image (at most 10 MB, the type read from its bytes) of one checklist item,
    by the inspector before the person acknowledges the result."""
    services.inspection_add_photo(actor=request.user, inspection_id=inspection_id, code=code, upload=file)
    return _inspection(selectors.inspection_get(request.user, inspection_id))


class AckIn(Schema):
    remark: str = Field("", max_length=500)


@router.post("/standards/inspections/{inspection_id}/acknowledge",
             response={200: InspectionOut, 409: ErrorOut, **COMMON_ERRORS},
             summary="Acknowledge an inspection's result / 确认检查结果")
def inspection_acknowledge(request, inspection_id: DbInt, payload: AckIn):
    services.inspection_acknowledge(actor=request.user, inspection_id=inspection_id, remark=payload.remark)
    return _inspection(selectors.inspection_get(request.user, inspection_id))


class CaseIn(Schema):
    kind: Literal["violation", "commendation"]
    person_id: DbInt
    rule: str = Field("", max_length=30, description="A catalogue item code or a 四不准 code (4N-1 … 4N-4).")
    measure: Literal["verbal_warning", "written_warning", "demotion", "dismissal", "praise", "reward"]
    description: str = Field(..., max_length=5000)
    points: int = 0
    fine: Decimal = Field(Decimal("0"), description="Fine (violation) or reward (commendation) in yuan.")
    order_id: DbInt | None = None
    inspection_id: DbInt | None = None
    complaint_order_id: DbInt | None = None


class CaseEventOut(Schema):
    at: datetime
    actor_id: int | None
    action: str
    from_status: str
    to_status: str
    text: str


class CaseOut(Schema):
    id: int
    number: str | None
    kind: str
    source: str
    status: str
    person_id: DbInt
    rule: str
    rule_text: str
    description: str
    measure: str
    points: int
    fine: Decimal
    order_id: int | None
    complaint_order_id: int | None
    inspection_id: int | None
    proposed_by_id: int | None
    decided_by_id: int | None
    decision_note: str
    statement: str
    appeal: str
    appeal_decision: str
    version: int
    allowed_actions: list[str]
    events: list[CaseEventOut]


def _case(user, c: Case) -> dict:
    return {**{f: getattr(c, f) for f in ("id", "number", "kind", "source", "status", "person_id", "rule", "rule_text",
                                          "description", "measure", "points", "fine", "order_id", "complaint_order_id",
                                          "inspection_id", "proposed_by_id", "decided_by_id", "decision_note",
                                          "statement", "appeal", "appeal_decision", "version")},
            "allowed_actions": cases.case_allowed_actions(user, c),
            "events": [{"at": e.at, "actor_id": e.actor_id, "action": e.action, "from_status": e.from_status,
                        "to_status": e.to_status, "text": e.text} for e in c.events.all()]}


@router.get("/standards/cases", response={200: list[CaseOut], **COMMON_ERRORS},
            summary="Conduct cases you may see / 违规处理与表扬")
def case_list(request, status: str | None = None, limit: int = Query(100, ge=1, le=500)):
    """Your own cases and those of the people you manage; nobody else's."""
    qs = selectors.case_queryset(request.user).prefetch_related("events")
    if status:
        qs = qs.filter(status=status)
    return [_case(request.user, c) for c in qs[:limit]]


@router.post("/standards/cases", response={201: CaseOut, 409: ErrorOut, **COMMON_ERRORS},
             summary="Propose a violation or a commendation / 提出处理或表扬")
def case_create(request, payload: CaseIn):
    case = cases.case_propose(actor=request.user, **payload.model_dump())
    return Status(201, _case(request.user, case))


@router.get("/standards/cases/{case_id}", response={200: CaseOut, **COMMON_ERRORS}, summary="A conduct case")
def case_get(request, case_id: DbInt):
    return _case(request.user, selectors.case_get(request.user, case_id))


class CaseActionIn(Schema):
    version: DbInt
    text: str = Field("", max_length=5000)


CASE_ACTION_DOCS = {
    "approve": "proposed → approved, by a superior other than the proposer. / 审批通过",
    "reject": "proposed → rejected; the reason is required. / 驳回",
    "state": "the person's statement (陈述), while proposed or approved. / 本人陈述",
    "appeal": "approved → appealed, by the person; the grounds are required. / 申诉",
    "uphold": "appealed → appeal dismissed, by a superior other than the approver. / 维持原处理",
    "revoke": "appealed → revoked, by a superior other than the approver. / 撤销处理",
}


def _case_action_operation(action: str):
    def operation(request, case_id: DbInt, payload: CaseActionIn):
        case = cases.case_act(actor=request.user, case_id=case_id, version=payload.version, action=action,
                                 text=payload.text)
        return _case(request.user, case)

    operation.__name__ = f"case_{action}"
    return operation


for _action, _doc in CASE_ACTION_DOCS.items():
    router.post(f"/standards/cases/{{case_id}}/{_action}", response={200: CaseOut, 409: ErrorOut, **COMMON_ERRORS},
                summary=_doc, operation_id=f"standards_case_{_action}")(_case_action_operation(_action))


class CourseIn(Schema):
    title: str = Field(..., max_length=100)
    post: str = Field("", max_length=32)
    category: str = Field("", max_length=32)
    material: str = Field("", max_length=20000)
    questions: list[dict] = []
    pass_mark: int = 80
    valid_months: int = 24


class CourseOut(Schema):
    id: int
    title: str
    post: str
    category: str
    pass_mark: int
    valid_months: int
    questions: int


def _course(c) -> dict:
    return {"id": c.pk, "title": c.title, "post": c.post, "category": c.category, "pass_mark": c.pass_mark,
            "valid_months": c.valid_months, "questions": len(c.questions)}


@router.get("/standards/courses", response={200: list[CourseOut], **COMMON_ERRORS}, summary="Courses / 培训课程")
def course_list(request):
    return [_course(c) for c in selectors.course_queryset(request.user)]


@router.post("/standards/courses", response={201: CourseOut, **COMMON_ERRORS}, summary="Set up a course / 新建课程")
def course_create(request, payload: CourseIn):
    return Status(201, _course(services.course_create(actor=request.user, **payload.model_dump())))


class ExamIn(Schema):
    answers: list[int]


class ExamOut(Schema):
    score: int
    passed: bool
    certificate_expires_on: date | None


@router.post("/standards/courses/{course_id}/exam", response={201: ExamOut, **COMMON_ERRORS},
             summary="Sit a course's exam / 参加考核")
def exam_submit(request, course_id: DbInt, payload: ExamIn):
    attempt = services.exam_submit(actor=request.user, course_id=course_id, answers=payload.answers)
    cert = attempt.person.certificates.filter(attempt=attempt).first()
    return Status(201, {"score": attempt.score, "passed": attempt.passed,
                        "certificate_expires_on": cert.expires_on if cert else None})


class CardOut(Schema):
    person_id: DbInt
    name: str
    organization: str
    team: str
    rank: int
    score: float
    orders_taken: int
    orders_served: int
    rating: float | None
    complaints: int
    owned_closed: int
    owned_followed: int
    inspections: int
    inspection_score: float | None
    present: int
    late: int
    absent: int
    leave: int
    violations: int
    commendations: int
    points: int
    phrase_hits: int
    certificates: int
    flags: list[str]


def card_out(c) -> dict:
    return {"person_id": c.person.pk, "name": str(c.person), "organization": c.person.organization.name,
            **{f: getattr(c, f) for f in CardOut.model_fields if f not in ("person_id", "name", "organization")}}


@router.get("/standards/scorecards", response={200: list[CardOut], **COMMON_ERRORS},
            summary="Monthly scorecards / 月度考核表")
def scorecard_list(request, month: str = Query("", pattern=r"^(\d{4}-\d{2})?$", description="YYYY-MM; default this month")):
    """Your own card and the cards of the people you manage, ranked inside each team."""
    return [card_out(c) for c in scorecards.person_cards(request.user, scorecards.month_of(month))]


class HeldOut(Schema):
    id: int
    number: str
    status: str
    updated_at: datetime
    stalled: bool


@router.get("/standards/ownership/held-elsewhere", response={200: list[HeldOut], **COMMON_ERRORS},
            summary="My requests held elsewhere / 首问负责：我受理、他人处理中的服务单")
def held_elsewhere(request):
    return [{"id": o.pk, "number": o.number, "status": o.status, "updated_at": o.updated_at,
             "stalled": selectors.is_stalled(o)} for o in selectors.held_elsewhere(request.user)[:200]]
