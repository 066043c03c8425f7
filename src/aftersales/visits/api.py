"""The return-visit API (回访): the worklist, one visit, one operation per outcome of a call, the
planning of a day and the visits' satisfaction figures for the statistics centre."""

from datetime import date, datetime
from typing import Literal

from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from aftersales.api.errors import COMMON_ERRORS, ErrorOut
from aftersales.core.types import DbInt
from aftersales.registry.policies import phone_for
from aftersales.service.services.common import _shanghai_today
from aftersales.visits import selectors, services
from aftersales.visits.models import VisitTask

router = Router(tags=["Return visits"])
ERRORS = {409: ErrorOut, 429: ErrorOut, **COMMON_ERRORS}


class QuestionOut(Schema):
    id: int
    text: str
    answer_type: Literal["score", "yes_no", "text"]
    is_satisfaction: bool


class AnswerOut(Schema):
    question_text: str
    answer_type: str
    score: int | None
    yes: bool | None
    text: str


class VisitOut(Schema):
    id: int
    kind: str
    kind_display: str
    status: str
    version: int
    due_on: date
    attempts: int
    retry_at: datetime | None
    customer_id: int
    customer_name: str
    phone: str = Field(..., description="The customer's phone as the caller may see it (the one phone rule).")
    order_number: str | None
    machine_serial: str | None
    season: str | None
    score: int | None
    complaint_number: str | None
    repair_number: str | None
    finished_at: datetime | None
    assigned_to_id: int | None = Field(..., description="The agent who makes the call (claimed or assigned); null: anyone.")
    assigned_to_name: str | None


class VisitDetailOut(VisitOut):
    questions: list[QuestionOut]
    answers: list[AnswerOut]


def visit_out(user, task: VisitTask) -> dict:
    number = task.order.contact_phone if task.order_id else (
        task.customer.phones.order_by("-is_primary", "id").values_list("number", flat=True).first() or "")
    return {
        "id": task.pk, "kind": task.kind, "kind_display": str(task.get_kind_display()), "status": task.status,
        "version": task.version, "due_on": task.due_on, "attempts": task.attempts, "retry_at": task.retry_at,
        "customer_id": task.customer_id, "customer_name": task.customer.name,
        "phone": phone_for(user, task.customer, number, order=task.order, where="visits").text,
        "order_number": task.order.number if task.order_id else None,
        "machine_serial": task.machine.serial_number if task.machine_id else None,
        "season": str(task.season) if task.season_id else None, "score": task.score,
        "complaint_number": task.complaint.number if task.complaint_id else None,
        "repair_number": task.repair.number if task.repair_id else None, "finished_at": task.finished_at,
        "assigned_to_id": task.assigned_to_id, "assigned_to_name": str(task.assigned_to) if task.assigned_to_id else None,
    }


def visit_detail(user, task: VisitTask) -> dict:
    return {**visit_out(user, task),
            "questions": [{"id": q.pk, "text": q.text, "answer_type": q.answer_type, "is_satisfaction": q.is_satisfaction}
                          for q in selectors.questions_for(task.kind)],
            "answers": list(task.answers.values("question_text", "answer_type", "score", "yes", "text"))}


@router.get("/visits", response={200: list[VisitOut], **COMMON_ERRORS}, summary="Return visits to make / 回访清单")
def visit_list(request, status: Literal["due", "waiting", "open", "done", "refused", "unreachable"] = "due",
               whose: Literal["all", "mine", "unassigned"] = "all", limit: int = Query(100, ge=1, le=500)):
    """`due` (default): open visits due by today whose retry time has come (the worklist);
    `waiting`: not reached, to call again later; or every visit of one status. `whose=mine`: only
    the visits assigned to you ("my visits"); `unassigned`: those nobody has taken yet."""
    user, today, now = request.user, _shanghai_today(), timezone.now()
    if status == "due":
        qs = selectors.worklist(user, on=today, now=now, whose=whose)
    elif status == "waiting":
        qs = selectors.waiting(user, on=today, now=now, whose=whose)
    else:
        qs = selectors.whose_filter(selectors.visit_queryset(user).filter(status=status).order_by("-due_on", "-id"), user, whose)
    return [visit_out(user, t) for t in qs[:limit]]


class KindSatisfactionOut(Schema):
    reached: int
    scored: int
    score_mean: float | None


class SatisfactionOut(Schema):
    finished: int = Field(..., description="Visits finished in the period (any outcome).")
    reached: int
    refused: int
    unreachable: int
    reach_rate: float | None = Field(..., description="reached / finished")
    scored: int = Field(..., description="Reached visits with a satisfaction score.")
    score_mean: float | None = Field(..., description="Mean satisfaction score, 1 to 5.")
    low: int = Field(..., description="Scores of 2 or less (each opened a complaint).")
    complaints: int
    repairs: int
    by_kind: dict[str, KindSatisfactionOut]


@router.get("/visits/satisfaction", response={200: SatisfactionOut, **COMMON_ERRORS},
            summary="Satisfaction from return visits / 回访满意度")
def visit_satisfaction(request, since: date, until: date):
    """Visits finished in [since, until) (Asia/Shanghai days): reached, refused, not reached, the
    satisfaction scores (mean, how many low), complaints and repairs opened; per kind too."""
    return selectors.satisfaction(request.user, since=since, until=until)


class PlanIn(Schema):
    day: date


class PlanOut(Schema):
    day: date
    created: dict[str, int]


@router.post("/visits/plan", response={201: PlanOut, **ERRORS}, summary="Plan the visits of a day / 生成回访清单")
def visit_plan(request, payload: PlanIn):
    """Supervisors: run the rules for a day now (the worker does it each night for the next morning)."""
    result = services.plan_for(actor=request.user, on=payload.day)
    return Status(201, {"day": result.day, "created": result.created})


@router.get("/visits/{visit_id}", response={200: VisitDetailOut, **COMMON_ERRORS}, summary="One return visit")
def visit_get(request, visit_id: DbInt):
    return visit_detail(request.user, selectors.visit_get(request.user, visit_id))


class ReachedIn(Schema):
    version: int
    answers: dict[str, str | int | bool] = Field(default_factory=dict, description="Question id → answer: 1–5, yes/no, text.")
    new_fault: str = Field("", max_length=4000, description="A new fault the customer reports: opens a repair order.")
    machine_id: int | None = Field(None, description="The machine of the new fault, when the customer has several.")
    note: str = Field("", max_length=2000)


class NotReachedIn(Schema):
    version: int
    retry_at: datetime | None = Field(None, description="When to call again (required before the last try).")
    note: str = Field("", max_length=2000)


class RefusedIn(Schema):
    version: int
    note: str = Field("", max_length=2000)


@router.post("/visits/{visit_id}/reached", response={200: VisitDetailOut, **ERRORS}, summary="Visit: reached / 已回访")
def visit_reached(request, visit_id: DbInt, payload: ReachedIn):
    """The answers to the questionnaire; a satisfaction score of 2 or less opens a complaint, a new
    fault a repair order (channel visit)."""
    answers = {k: ("yes" if v is True else "no" if v is False else v) for k, v in payload.answers.items()}
    task = services.visit_reach(actor=request.user, task_id=visit_id, version=payload.version, answers=answers,
                                new_fault=payload.new_fault, machine_id=payload.machine_id, note=payload.note)
    return visit_detail(request.user, selectors.visit_get(request.user, task.pk))


@router.post("/visits/{visit_id}/not-reached", response={200: VisitDetailOut, **ERRORS},
             summary="Visit: not reached / 未接通")
def visit_not_reached(request, visit_id: DbInt, payload: NotReachedIn):
    """No answer: call again at retry_at; the third try without an answer closes the visit."""
    task = services.visit_not_reached(actor=request.user, task_id=visit_id, version=payload.version,
                                      retry_at=payload.retry_at, note=payload.note)
    return visit_detail(request.user, selectors.visit_get(request.user, task.pk))


@router.post("/visits/{visit_id}/refused", response={200: VisitDetailOut, **ERRORS}, summary="Visit: refused / 拒访")
def visit_refused(request, visit_id: DbInt, payload: RefusedIn):
    task = services.visit_refuse(actor=request.user, task_id=visit_id, version=payload.version, note=payload.note)
    return visit_detail(request.user, selectors.visit_get(request.user, task.pk))


class AssignIn(Schema):
    assignee_id: int | None = Field(..., description="The agent to make the call; null: nobody (back to the shared list).")


@router.post("/visits/{visit_id}/claim", response={200: VisitDetailOut, **ERRORS}, summary="Claim a visit / 领取回访")
def visit_claim(request, visit_id: DbInt):
    """Take an unassigned open visit as yours (a retry changes nothing; another agent's visit is a 409 ``taken``)."""
    task = services.visit_assign(actor=request.user, task_id=visit_id, assignee_id=request.user.pk)
    return visit_detail(request.user, selectors.visit_get(request.user, task.pk))


@router.post("/visits/{visit_id}/assign", response={200: VisitDetailOut, **ERRORS}, summary="Assign a visit / 分派回访")
def visit_assign(request, visit_id: DbInt, payload: AssignIn):
    """Supervisors assign an open visit to any visiting agent or to nobody; an agent may only give back
    their own (``assignee_id: null``)."""
    task = services.visit_assign(actor=request.user, task_id=visit_id, assignee_id=payload.assignee_id)
    return visit_detail(request.user, selectors.visit_get(request.user, task.pk))
