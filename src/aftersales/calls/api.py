"""The phone system's API: call events in (signed per integration), call logs, agents' figures and
callback tasks out (scoped like every read)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from django.utils import timezone
from ninja import Field, Query, Router, Schema

from aftersales.api.errors import COMMON_ERRORS, ErrorOut
from aftersales.calls import selectors, services
from aftersales.core.errors import Forbidden
from aftersales.core.types import DbInt
from aftersales.registry import selectors as registry_selectors
from aftersales.registry.policies import phone_for
from aftersales.service import selectors as order_selectors

router = Router(tags=["Phone system (CTI)"])
SHANGHAI = ZoneInfo("Asia/Shanghai")


class CtiSignature:
    """Authenticates a phone system: ``X-CTI-Token`` (the integration's token), ``X-CTI-Timestamp``
    (Unix seconds, fractions allowed, within AFTERSALES_CTI_WINDOW of the server's clock) and ``X-CTI-Signature``
    (``sha256=`` + hex HMAC-SHA256 with the integration's secret over ``timestamp + "." + body``).
    Checked before the body is parsed; a refusal is a 401 naming the header at fault."""

    def __call__(self, request):
        meta = request.META
        system = services.authenticate(token=meta.get("HTTP_X_CTI_TOKEN", ""), timestamp=meta.get("HTTP_X_CTI_TIMESTAMP", ""),
                                       signature=meta.get("HTTP_X_CTI_SIGNATURE", ""), body=request.body)
        request.cti_signature = meta.get("HTTP_X_CTI_SIGNATURE", "")
        return system


class CallEventIn(Schema):
    event_id: str = Field(..., min_length=1, max_length=80, description="Unique per phone system; a retry sends the same id. / 事件编号")
    call_id: str = Field(..., min_length=1, max_length=80, description="The phone system's id of the call. / 呼叫编号")
    kind: Literal["ringing", "answered", "transferred", "ended"] = Field(..., description="What happened. / 事件类型")
    at: datetime = Field(..., description="When it happened (ISO 8601 with offset).")
    caller: str = Field(..., min_length=1, max_length=32, description="The caller's number as the phone system has it. / 主叫号码")
    extension: str = Field("", max_length=20, description="The agent's extension that rings, answered or took the transfer. / 分机")
    queue: str = Field("", max_length=40, description="The queue the call came through. / 队列")
    recording: str = Field("", max_length=200, description="A reference to the recording (a path or id in the phone system). / 录音")


class CallEventOut(Schema):
    call_id: str
    state: str
    outcome: str
    duplicate: bool = Field(..., description="true: this event id was recorded before; nothing was done again.")


@router.post("/calls/events", auth=CtiSignature(), response={200: CallEventOut, **COMMON_ERRORS, 409: ErrorOut},
             summary="Receive a call event from the phone system / 接收话务事件")
def call_event(request, payload: CallEventIn):
    """For phone-system integrations only (not users): the event is recorded once per ``event_id``
    (a retry answers ``duplicate: true``); the same signed request twice is refused (401 ``replayed``).
    A ringing event pops the caller on the agent's desk; an abandoned call becomes a callback task."""
    call, duplicate = services.call_event_record(system=request.auth, event=payload.dict(),
                                                 signature=getattr(request, "cti_signature", ""))
    return {"call_id": call.call_id, "state": call.state, "outcome": call.outcome, "duplicate": duplicate}


class CallOut(Schema):
    id: int
    call_id: str
    caller: str = Field(..., description="As the phone rule lets you see it.")
    customer_id: int | None
    order_id: int | None
    queue: str
    extension: str
    agent_id: int | None
    state: str
    outcome: str
    rang_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    ring_seconds: float | None
    talk_seconds: float | None
    late: bool = Field(..., description="Answered after the three-rings limit.")
    transfers: int
    recording: str


def call_out(user, call) -> dict:
    return {"id": call.pk, "call_id": call.call_id,
            "caller": phone_for(user, call.customer, call.caller, where="api:calls").value,
            "customer_id": call.customer_id, "order_id": call.order_id, "queue": call.queue,
            "extension": call.extension, "agent_id": call.agent_id, "state": call.state, "outcome": call.outcome,
            "rang_at": call.rang_at, "answered_at": call.answered_at, "ended_at": call.ended_at,
            "ring_seconds": call.ring_seconds, "talk_seconds": call.talk_seconds, "late": call.late,
            "transfers": call.transfers, "recording": call.recording}


class CallLogQuery(Schema):
    customer: DbInt | None = Field(None, description="The calls of this customer. / 客户")
    order: DbInt | None = Field(None, description="The calls of this order. / 任务单")


@router.get("/calls", response={200: list[CallOut], **COMMON_ERRORS}, summary="Call log / 通话记录")
def call_list(request, filters: Query[CallLogQuery]):
    """The newest 50 calls you may see, of a customer or an order if asked (404 if you cannot see it)."""
    if not selectors.policies.may_read_calls(request.user):
        raise Forbidden("Calls are for staff with a role.")
    order = customer_id = None
    if filters.order is not None:
        order = order_selectors.order_get(request.user, filters.order)
    elif filters.customer is not None:
        customer_id = registry_selectors.customer_get(request.user, pk=filters.customer).pk
    return [call_out(request.user, c) for c in selectors.call_log(request.user, customer_id=customer_id, order=order)]


class AgentOut(Schema):
    agent_id: int
    agent: str
    extension: str
    answered: int
    late: int = Field(..., description="Answered after AFTERSALES_CTI_THREE_RINGS_SECONDS.")
    ring_seconds: float | None = Field(..., description="Average rings-to-answer.")
    talk_seconds: float | None = Field(..., description="Average talk time.")


class DayQuery(Schema):
    day: date | None = Field(None, description="A day in Asia/Shanghai; default today. / 日期")


def day_bounds(day: date | None) -> tuple[datetime, datetime, date]:
    day = day or timezone.localdate()
    start = datetime.combine(day, time.min, SHANGHAI)
    return start, start + timedelta(days=1), day


@router.get("/calls/agents", response={200: list[AgentOut], **COMMON_ERRORS}, summary="Agents' call figures / 坐席话务指标")
def agent_list(request, filters: Query[DayQuery]):
    if not selectors.policies.may_read_calls(request.user):
        raise Forbidden("Calls are for staff with a role.")
    start, end, _day = day_bounds(filters.day)
    return selectors.agent_figures(request.user, start=start, end=end)


class CallbackOut(Schema):
    id: int
    call_id: int
    number: str
    customer_id: int | None
    state: str
    clock: str = Field(..., description="running, at_risk, breached (open); met or breached (done); cancelled.")
    started_at: datetime
    due_at: datetime
    done_at: datetime | None
    note: str


def callback_out(user, task) -> dict:
    return {"id": task.pk, "call_id": task.call_id, "number": phone_for(user, task.customer, task.number,
                                                                       where="api:callbacks").value,
            "customer_id": task.customer_id, "state": task.state, "clock": task.clock_state(timezone.now()),
            "started_at": task.started_at, "due_at": task.due_at, "done_at": task.done_at, "note": task.note}


@router.get("/calls/callbacks", response={200: list[CallbackOut], **COMMON_ERRORS}, summary="Open callback tasks / 待回拨")
def callback_list(request):
    """Abandoned calls to return, the most urgent first."""
    if not selectors.policies.may_read_calls(request.user):
        raise Forbidden("Calls are for staff with a role.")
    return [callback_out(request.user, t) for t in selectors.open_callbacks(request.user)]


class CallbackDoneIn(Schema):
    note: str = Field("", max_length=300, description="What the customer said. / 回拨结果")


@router.post("/calls/callbacks/{task_id}/done", response={200: CallbackOut, **COMMON_ERRORS, 409: ErrorOut},
             summary="Mark a callback done / 完成回拨")
def callback_done(request, task_id: DbInt, payload: CallbackDoneIn):
    task = services.callback_done(actor=request.user, task_id=task_id, note=payload.note)
    return callback_out(request.user, task)
