"""The service-order API's schemas: what an intake sends, what an order answers, and the payload of
each action of the transition table (``ACTION_DATA``), one schema per action."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from ninja import Field, Schema

from aftersales.api.errors import COMMON_ERRORS, ErrorOut
from aftersales.core.types import TEXT_MAX, DbId, Text
from aftersales.registry.api import (
    CustomerIn,
    CustomerOut,
    MachineIn,
)
from aftersales.service import workflow
from aftersales.service.models import (
    Channel,
    EscalationOutcome,
    OrderType,
    ServiceMode,
    Urgency,
)


class ConflictOut(ErrorOut):
    current: dict[str, Any] | None = None


WRITE_ERRORS = {**COMMON_ERRORS, 409: ConflictOut}


# --- schemas --------------------------------------------------------------------------------

class ComplaintIn(Schema):
    about_order_id: DbId | None = None
    about_org_id: DbId | None = None
    category: str = Field(..., examples=["delay"], max_length=16)
    severity: str = Field(..., examples=["medium"], max_length=8)
    supervisor_id: DbId | None = None


class OrderIn(Schema):
    order_type: str = Field(..., examples=["repair"], max_length=20)
    customer_id: DbId | None = None
    new_customer: CustomerIn | None = None
    machine_id: DbId | None = None
    new_machine: MachineIn | None = None
    contact_phone: str = Field("", examples=["138 1234 5678"], max_length=40)
    contact_name: str = Field("", max_length=50)
    channel: str = Field(Channel.PHONE, max_length=10)
    purchase_date: date | None = None
    crop: str = Field("", examples=["小麦"], max_length=40)
    operation: str = Field("", examples=["收获"], max_length=40)
    field_location: str = Field("", max_length=200)
    urgency: str = Field(Urgency.NORMAL, max_length=10)
    symptom: str = Field("", examples=["发动机冒黑烟，动力不足"], max_length=TEXT_MAX)
    service_level: str = Field("", description="Leave empty to take the proposal; a different value needs override_reason.", max_length=12)
    service_mode: str = Field("", description="Leave empty to take the warranty engine's proposal.", max_length=10)
    override_reason: str = Field("", max_length=300)
    answer: str = Field("", description="A consultation answered on the call: the order closes at once.", max_length=TEXT_MAX)
    duplicate_reason: str = Field("", description="Create even though a similar open order exists, and say why.", max_length=300)
    promised_at: datetime | None = None
    complaint: ComplaintIn | None = None
    return_kind: str = Field("", description="exchange or return, for a return_exchange order", max_length=10)
    fault_component: str = Field("", description="For a return_exchange order: the component that keeps failing (a parts code).", max_length=40)
    fault_serious: bool = Field(False, description="For a return_exchange order: whether the recurring fault is serious.")


class WarrantyOut(Schema):
    status: str
    remedy: str
    policy_name: str
    policy_version: int | None
    end: date | None
    reasons: list[dict[str, Any]]


class OrderOut(Schema):
    id: int
    number: str
    order_type: str
    channel: str
    status: str
    status_display: str
    status_colour: str
    version: int
    customer_id: int
    customer_name: str
    contact_name: str
    contact_phone: str
    contact_phone_masked: bool
    machine_id: int | None
    machine_serial: str | None
    model_code: str | None
    purchase_date: date | None
    warranty: WarrantyOut
    crop: str
    operation: str
    field_location: str
    urgency: str
    symptom: str
    service_level: str
    proposed_level: str
    service_mode: str
    proposed_mode: str
    override_reason: str
    owning_org_id: int
    owner_id: int
    owner_name: str
    hotline_technician_id: int | None
    assigned_org_id: int | None
    assigned_org_name: str | None
    assigned_technician_id: int | None
    assigned_technician_name: str | None
    answer: str
    diagnosis: list[str]
    duplicate_of_id: int | None
    related_order_id: int | None
    appointment_at: datetime | None
    promised_at: datetime | None
    overdue: bool
    outside_coverage: bool = Field(description="Dispatched outside the organization's coverage (the reason is in the dispatch event).")
    inbound_tracking: str
    outbound_tracking: str
    confirmed_by_name: str
    confirmed_at: datetime | None
    cancel_reason: str
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    closed_at: datetime | None


class ActionOut(Schema):
    action: str
    label: str
    target: str
    enabled: bool
    blocked_reason: str
    data_schema: dict[str, Any]


class PartOut(Schema):
    part_number: str
    name: str
    quantity: Decimal
    warranty: bool
    unit_price: Decimal
    component: str = "whole_machine"
    action: str = "repaired"
    serious: bool = False


class ServiceRecordOut(Schema):
    id: int
    technician_id: int
    fault_found: str
    cause: str
    diagnosis_steps: list[str]
    solution: str
    labour_hours: Decimal
    hours_meter: Decimal | None
    component: str
    serious: bool
    parts: list[PartOut]


class ComplaintOut(Schema):
    order_id: int
    order_number: str
    status: str
    about_order_id: int | None
    about_org_id: int | None
    category: str
    severity: str
    supervisor_id: int | None
    findings: str
    resolution: str
    customer_accepted: bool | None


class ReturnRequestOut(Schema):
    kind: str
    eligible: bool
    eligibility: dict[str, Any]
    decision: str
    decision_reason: str
    new_machine_id: int | None
    refund_amount: Decimal | None
    fault_component: str = ""
    fault_serious: bool = False
    overridden: bool = Field(False, description="Approved by the technical centre although not eligible.")


class RatingOut(Schema):
    score: int
    comment: str
    recorded_at: datetime


class EscalationOut(Schema):
    id: int
    order_id: int
    order_number: str
    raised_by_id: int
    raised_at: datetime
    problem: str
    tried: str
    resume_status: str
    engineer_id: int | None
    outcome: str
    answer: str
    answered_at: datetime | None


class TotalsOut(Schema):
    """费用合计: what the order costs and who pays, in CNY."""

    basis: str = Field(description="accepted_quote (paid service: the quote the customer accepted), "
                                   "service_record (parts of the service record) or none.")
    parts: Decimal
    labour: Decimal
    travel: Decimal
    total: Decimal
    warranty_covers: Decimal = Field(description="Parts replaced under warranty (三包): the maker pays.")
    customer_pays: Decimal


class OrderDetailOut(OrderOut):
    totals: TotalsOut
    actions: list[ActionOut]
    service_record: ServiceRecordOut | None
    complaint: ComplaintOut | None
    return_request: ReturnRequestOut | None
    rating: RatingOut | None
    escalations: list[EscalationOut]


class EventOut(Schema):
    seq: int
    at: datetime
    actor_id: int | None
    actor_name: str | None
    actor_org_id: int | None
    action: str
    from_status: str
    to_status: str
    data: dict[str, Any]
    note: str
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    accuracy_m: int | None = None


class AttachmentOut(Schema):
    id: int
    kind: str
    original_name: str
    content_type: str
    size: int
    uploaded_by_id: int
    uploaded_at: datetime


class QuoteOut(Schema):
    id: int
    items: list[dict[str, Any]]
    parts_total: Decimal
    labour_total: Decimal
    total: Decimal
    reason: str
    status: str
    created_at: datetime
    decided_at: datetime | None
    decided_note: str


class ProposalIn(Schema):
    order_type: str = Field(OrderType.REPAIR, max_length=20)
    customer_id: DbId
    machine_id: DbId | None = None
    urgency: str = Field(Urgency.NORMAL, max_length=10)


class ProposalOut(Schema):
    service_level: str
    service_mode: str
    warranty: dict[str, Any] | None


class LookupOut(Schema):
    customer: CustomerOut | None
    candidates: list[CustomerOut] = Field([], description="Several customers whose number ends in the digits given.")
    machines: list[dict[str, Any]]
    open_orders: list[OrderOut]


class SuggestionOut(Schema):
    organization_id: int
    code: str
    name: str
    kind: str
    open_load: int


# --- action payloads (``data`` of POST /orders/{id}/actions/{action}) -------------------------

class NoData(Schema):
    pass


class AnswerData(Schema):
    answer: str = Field(..., max_length=TEXT_MAX)


class ForwardData(Schema):
    hotline_technician_id: DbId | None = None


class CallbackData(Schema):
    reached: bool = True


class DiagnoseData(Schema):
    steps: list[str]


class SolveByPhoneData(Schema):
    solution: str = Field(..., max_length=TEXT_MAX)
    steps: list[Text] = Field([], max_length=100)


class ConfirmModeData(Schema):
    service_mode: str = Field(..., examples=[ServiceMode.ON_SITE], max_length=10)
    reason: str = Field("", max_length=300)
    steps: list[Text] = Field([], max_length=100)


class DispatchData(Schema):
    organization_id: DbId
    technician_id: DbId | None = None
    promised_at: datetime | None = None
    outside_coverage_reason: str = Field("", max_length=300, description=(
        "Required when the organization's coverage does not hold the customer's place; the order is then "
        "flagged outside_coverage. 派往服务区域以外的机构时必填。"))


class ReasonData(Schema):
    reason: str = Field(..., max_length=300)


class AssignData(Schema):
    technician_id: DbId | None = None


class ScheduleData(Schema):
    appointment_at: datetime


class QuoteItemIn(Schema):
    kind: str = Field("part", description="part, labour or travel", max_length=20)
    part_number: str = Field("", max_length=40)
    description: str = Field("", max_length=200)
    quantity: Decimal
    unit_price: Decimal


class QuoteData(Schema):
    items: list[QuoteItemIn] = Field(..., max_length=100)
    reason: str = Field("", max_length=300)


class ReceiveData(Schema):
    inbound_tracking: str = Field("", max_length=60)


class PartIn(Schema):
    part_number: str = Field(..., max_length=40)
    name: str = Field("", max_length=100)
    quantity: Decimal
    warranty: bool = True
    unit_price: Decimal = Decimal(0)
    component: str = Field("", max_length=40, description="Component code this line worked on (empty: the record's component).")
    action: Literal["repaired", "replaced"] = Field("repaired", description="Whether the component was repaired or replaced.")
    serious: bool | None = Field(None, description="Whether the fault was serious (empty: as the record's `serious`).")
    fit_reason: str = Field("", max_length=300, description="Why a catalogue part listed for other models was fitted anyway.")
    serial: str = Field("", max_length=60, description="The serial number of a serial-tracked part (engine, gearbox).")


class RecordServiceData(Schema):
    fault_found: str = Field(..., max_length=TEXT_MAX)
    cause: str = Field("", max_length=TEXT_MAX)
    diagnosis_steps: list[Text] = Field([], max_length=100)
    solution: str = Field(..., max_length=TEXT_MAX)
    parts: list[PartIn] = Field([], max_length=100)
    labour_hours: Decimal = Decimal(0)
    hours_meter: Decimal | None = None
    photo_ids: list[DbId] = Field([], max_length=100)
    component: str = Field("whole_machine", description="Component code (see warranty parts), or whole_machine.", max_length=40)
    serious: bool = False


class ApproveReturnData(Schema):
    reason: str = Field(..., max_length=2000)
    override: bool = Field(False, description="Approve although the warranty engine did not find the request eligible "
                                              "(technical centre only; recorded on the timeline).")


class PositionData(Schema):
    """The browser's position at check-in or check-out, when the technician shares it (both or neither)."""

    latitude: Decimal | None = Field(None, ge=-90, le=90, examples=[36.876543])
    longitude: Decimal | None = Field(None, ge=-180, le=180, examples=[118.791234])
    accuracy_m: int | None = Field(None, ge=0, le=1_000_000, description="Radius of the position in metres.")


class CheckInData(PositionData):
    pass


class CheckOutData(PositionData):
    outbound_tracking: str = Field("", max_length=60)


class ConfirmData(Schema):
    name: str = Field("", max_length=100)
    signature_id: DbId | None = None
    code: str = Field("", max_length=20)


class EscalateData(Schema):
    problem: str = Field(..., max_length=TEXT_MAX)
    tried: str = Field("", max_length=TEXT_MAX)


class AnswerEscalationData(Schema):
    outcome: str = Field(..., examples=[EscalationOutcome.GUIDANCE], max_length=16)
    answer: str = Field(..., max_length=TEXT_MAX)


class ExchangeData(Schema):
    new_serial_number: str = Field(..., max_length=40)
    engine_number: str = Field("", max_length=40)
    model_code: str = Field("", max_length=40)


class RefundData(Schema):
    refund_amount: Decimal


class ResolveData(Schema):
    resolution: str = Field(..., max_length=TEXT_MAX)
    findings: str = Field("", max_length=TEXT_MAX)


class RateData(Schema):
    score: int = Field(..., ge=1, le=5)
    comment: str = Field("", max_length=TEXT_MAX)


class FollowUpData(Schema):
    summary: str = Field(..., max_length=TEXT_MAX)
    channel: str = Field(Channel.PHONE, max_length=10)


class PauseClockData(Schema):
    reason: str = Field(..., description="waiting_customer, waiting_parts or weather", max_length=300)


ACTION_DATA: dict[str, type[Schema]] = {
    "answer": AnswerData, "forward": ForwardData, "callback": CallbackData, "diagnose": DiagnoseData,
    "solve_by_phone": SolveByPhoneData, "confirm_mode": ConfirmModeData, "dispatch": DispatchData,
    "accept": NoData, "reject": ReasonData, "assign": AssignData, "tech_accept": NoData, "tech_decline": ReasonData,
    "schedule": ScheduleData, "quote": QuoteData, "quote_accept": NoData, "quote_decline": NoData,
    "check_in": CheckInData, "receive": ReceiveData, "record_service": RecordServiceData, "check_out": CheckOutData,
    "resend_code": NoData, "confirm": ConfirmData, "escalate": EscalateData, "answer_escalation": AnswerEscalationData,
    "approve_return": ApproveReturnData, "reject_return": ReasonData, "complete_exchange": ExchangeData,
    "record_refund": RefundData, "investigate": NoData, "resolve": ResolveData, "customer_accept": NoData,
    "customer_reject": ReasonData, "rate": RateData, "close": ReasonData, "cancel": ReasonData, "follow_up": FollowUpData,
    "pause_clock": PauseClockData, "resume_clock": NoData,
}
assert set(ACTION_DATA) == set(workflow.TRANSITIONS_BY_ACTION), "every action of the table has a payload schema"
