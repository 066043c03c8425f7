"""Service orders over HTTP: intake, lists, the action table, the timeline, attachments, quotes,
escalations and complaints. No business logic here: every write is a service call."""


import functools
import hashlib
import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Header, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from aftersales.api.errors import COMMON_ERRORS, VALIDATION_PRECHECKS
from aftersales.api.pagination import LazyPage, NewestFirstPages, Pages
from aftersales.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from aftersales.core.files import download_response as attachment_download_response
from aftersales.core.types import TEXT_MAX, DbId, DbInt
from aftersales.registry import api as registry_api
from aftersales.registry import policies as registry_policies
from aftersales.registry import selectors as registry_selectors
from aftersales.registry import services as registry_services
from aftersales.registry.api import (
    customer_out,
    machine_out,
)
from aftersales.service import policies, selectors, services, workflow
from aftersales.service.models import (
    OPEN_STATUSES,
    STATUS_COLOURS,
    AttachmentKind,
    Channel,
    OrderStatus,
    OrderType,
    ServiceLevel,
    ServiceMode,
)
from aftersales.service.schemas import (
    ACTION_DATA,
    WRITE_ERRORS,
    ActionOut,
    AttachmentOut,
    ComplaintOut,
    EscalationOut,
    EventOut,
    LookupOut,
    OrderDetailOut,
    OrderIn,
    OrderOut,
    ProposalIn,
    ProposalOut,
    QuoteOut,
    SuggestionOut,
)

router = Router(tags=["service orders"])




def _service_kwargs(action: str, data: Schema) -> dict:
    values = data.model_dump()
    if action == "record_service":
        values["parts"] = [services.PartInput(**p) for p in values["parts"]]
    if action == "quote":
        values["items"] = [dict(i) for i in values["items"]]
    return values


class ActionIn(Schema):
    version: DbInt = Field(..., description="The version you read; a stale one answers 409 stale_version.")
    note: str = Field("", max_length=TEXT_MAX)
    data: dict[str, Any] = Field(default_factory=dict, description="The action's fields; see GET /orders/{id}/actions.")


# --- output builders ------------------------------------------------------------------------

def order_out(order, user) -> dict:
    # The one phone rule (registry/policies.py); a full number shown to a partner is recorded.
    phone = registry_policies.phone_for(user, None, order.contact_phone, order=order, where="api:order")
    now = timezone.now()
    return {
        "id": order.pk, "number": order.number, "order_type": order.order_type, "channel": order.channel,
        "status": order.status, "status_display": str(order.get_status_display()),
        "status_colour": STATUS_COLOURS.get(order.status, "secondary"), "version": order.version,
        "customer_id": order.customer_id, "customer_name": order.customer.name,
        "contact_name": order.contact_name,
        "contact_phone": phone.text,
        "contact_phone_masked": phone.masked,
        "machine_id": order.machine_id,
        "machine_serial": order.machine.serial_number if order.machine_id else None,
        "model_code": order.machine.model.code if order.machine_id else None,
        "purchase_date": order.purchase_date,
        "warranty": {"status": order.warranty_status, "remedy": order.warranty_remedy,
                     "policy_name": order.warranty_policy_name, "policy_version": order.warranty_policy_version,
                     "end": order.warranty_end, "reasons": order.warranty_reasons},
        "crop": order.crop, "operation": order.operation, "field_location": order.field_location,
        "urgency": order.urgency, "symptom": order.symptom,
        "service_level": order.service_level, "proposed_level": order.proposed_level,
        "service_mode": order.service_mode, "proposed_mode": order.proposed_mode, "override_reason": order.override_reason,
        "owning_org_id": order.owning_org_id, "owner_id": order.owner_id, "owner_name": str(order.owner),
        "hotline_technician_id": order.hotline_technician_id,
        "assigned_org_id": order.assigned_org_id,
        "assigned_org_name": order.assigned_org.name if order.assigned_org_id else None,
        "assigned_technician_id": order.assigned_technician_id,
        "assigned_technician_name": str(order.assigned_technician) if order.assigned_technician_id else None,
        "answer": order.answer, "diagnosis": order.diagnosis,
        "duplicate_of_id": order.duplicate_of_id, "related_order_id": order.related_order_id,
        "appointment_at": order.appointment_at, "promised_at": order.promised_at,
        "outside_coverage": order.outside_coverage,
        "overdue": bool(order.promised_at and order.promised_at < now and order.status in OPEN_STATUSES
                        and order.status != "completed"),
        "inbound_tracking": order.inbound_tracking, "outbound_tracking": order.outbound_tracking,
        "confirmed_by_name": order.confirmed_by_name, "confirmed_at": order.confirmed_at,
        "cancel_reason": order.cancel_reason, "created_at": order.created_at, "updated_at": order.updated_at,
        "completed_at": order.completed_at, "closed_at": order.closed_at,
    }


def _escalation_out(e) -> dict:
    return {"id": e.pk, "order_id": e.order_id, "order_number": e.order.number, "raised_by_id": e.raised_by_id,
            "raised_at": e.raised_at, "problem": e.problem, "tried": e.tried, "resume_status": e.resume_status,
            "engineer_id": e.engineer_id, "outcome": e.outcome, "answer": e.answer, "answered_at": e.answered_at}


def _complaint_out(c) -> dict:
    return {"order_id": c.order_id, "order_number": c.order.number, "status": c.order.status,
            "about_order_id": c.about_order_id, "about_org_id": c.about_org_id, "category": c.category,
            "severity": c.severity, "supervisor_id": c.supervisor_id, "findings": c.findings,
            "resolution": c.resolution, "customer_accepted": c.customer_accepted}


@functools.cache
def _data_schema(action: str) -> dict:
    # Building a JSON schema walks the whole pydantic model; the payload schemas never change.
    return ACTION_DATA[action].model_json_schema()


def _actions_out(user, order) -> list[dict]:
    return [{**a, "data_schema": _data_schema(a["action"])}  # shared, read-only
            for a in selectors.order_allowed_actions(user, order)]


def _totals(order, record) -> dict:
    """Paid service charges what the customer accepted in the quote; otherwise the customer pays the
    service record's parts that are not under warranty (labour and travel of warranty work are the
    maker's)."""
    zero = Decimal("0.00")
    parts_rows = list(record.parts.all()) if record is not None else []
    warranty = sum((p.quantity * p.unit_price for p in parts_rows if p.warranty), zero).quantize(zero)
    quote = max((q for q in order.quote_list() if q.status == "accepted"), key=lambda q: q.pk, default=None)
    if quote is not None:
        amounts = {"part": zero, "labour": zero, "travel": zero}
        for line in quote.items:
            amounts[line.get("kind", "part")] = amounts.get(line.get("kind", "part"), zero) + Decimal(line["amount"])
        return {"basis": "accepted_quote", "parts": amounts["part"], "labour": amounts["labour"],
                "travel": amounts["travel"], "total": quote.total, "warranty_covers": warranty,
                "customer_pays": quote.total}
    if record is None:
        return {"basis": "none", "parts": zero, "labour": zero, "travel": zero, "total": zero,
                "warranty_covers": zero, "customer_pays": zero}
    parts = sum((p.quantity * p.unit_price for p in parts_rows), zero).quantize(zero)
    return {"basis": "service_record", "parts": parts, "labour": zero, "travel": zero, "total": parts,
            "warranty_covers": warranty, "customer_pays": parts - warranty}


def order_detail_out(order, user) -> dict:
    out = order_out(order, user)
    record = getattr(order, "service_record", None)
    complaint = getattr(order, "complaint", None)
    request = getattr(order, "return_request", None)
    rating = getattr(order, "rating", None)
    out.update(
        totals=_totals(order, record),
        actions=_actions_out(user, order),
        service_record=None if record is None else {
            "id": record.pk, "technician_id": record.technician_id, "fault_found": record.fault_found,
            "cause": record.cause, "diagnosis_steps": record.diagnosis_steps, "solution": record.solution,
            "labour_hours": record.labour_hours, "hours_meter": record.hours_meter,
            "component": record.component, "serious": record.serious,
            "parts": [{"part_number": p.part_number, "name": p.name, "quantity": p.quantity, "warranty": p.warranty,
                       "unit_price": p.unit_price, "component": p.component, "action": p.action, "serious": p.serious}
                      for p in record.parts.all()],
        },
        complaint=None if complaint is None else _complaint_out(complaint),
        return_request=None if request is None else {
            "kind": request.kind, "eligible": request.eligible, "eligibility": request.eligibility,
            "decision": request.decision, "decision_reason": request.decision_reason,
            "new_machine_id": request.new_machine_id, "refund_amount": request.refund_amount,
            "fault_component": request.fault_component, "fault_serious": request.fault_serious,
            "overridden": request.overridden,
        },
        rating=None if rating is None else {"score": rating.score, "comment": rating.comment, "recorded_at": rating.recorded_at},
        escalations=[_escalation_out(e) for e in sorted(order.escalation_list(), key=lambda e: (e.raised_at, e.pk))],
    )
    return out


def _detail(request, order_id: DbId) -> dict:
    return order_detail_out(selectors.order_get(request.user, order_id), request.user)


# --- intake ---------------------------------------------------------------------------------

@router.get("/intake/lookup", response={200: LookupOut, **COMMON_ERRORS}, summary="Find the caller by phone")
def intake_lookup(request, phone: str = Query(..., min_length=4, max_length=40, examples=["139 1234 5678", "5678"])):
    """热线接听: the caller's customer record, machines and open orders, from any spelling of the whole
    number, or from its last 4+ digits. A partial number that fits several customers answers them in
    ``candidates`` (at most 10) and no ``customer``: ask the caller which one. Who may search by
    partial numbers is the registry's rule (its selector answers nothing to those who may not).
    Rate-limited per user and address (429), like every phone look-up."""
    registry_api.lookup_throttle(request, phone)
    customer = registry_selectors.customer_find_by_phone(request.user, phone=phone)
    candidates = []
    if customer is None:
        found = list(registry_selectors.customer_search(request.user, phone=phone)[:11])
        if len(found) == 1:
            customer = found[0]
        else:
            candidates = found[:10]
    if customer is None:
        return {"customer": None, "candidates": [customer_out(c, request.user) for c in candidates],
                "machines": [], "open_orders": []}
    customer = registry_selectors.customer_get(request.user, pk=customer.pk)
    machines = registry_selectors.machine_search(request.user, owner_id=customer.pk)
    orders = selectors.order_search(request.user, customer=customer.pk, status=",".join(OPEN_STATUSES))[:20]
    return {"customer": customer_out(customer, request.user), "candidates": [],
            "machines": [machine_out(m) for m in machines],
            "open_orders": [order_out(o, request.user) for o in orders]}


@router.post("/orders/proposal", response={200: ProposalOut, **COMMON_ERRORS}, summary="Propose level and mode")
def order_proposal(request, payload: ProposalIn):
    """What the system proposes before the order is recorded: the service level from the customer's
    class (and urgency), the service mode and its reasons from the warranty engine."""
    customer = registry_selectors.customer_get(request.user, pk=payload.customer_id)
    machine = registry_selectors.machine_get(request.user, pk=payload.machine_id) if payload.machine_id else None
    return services.order_proposal(machine=machine, customer=customer, order_type=payload.order_type, urgency=payload.urgency)


def _order_input(payload: OrderIn) -> services.OrderInput:
    values = payload.dict(exclude={"new_customer", "new_machine", "complaint"})
    complaint = payload.complaint
    return services.OrderInput(
        **values,
        new_customer=registry_services.CustomerInput(**payload.new_customer.dict()) if payload.new_customer else None,
        new_machine=registry_services.MachineInput(**{**payload.new_machine.dict(), "owner_id": None}) if payload.new_machine else None,
        about_order_id=complaint.about_order_id if complaint else None,
        about_org_id=complaint.about_org_id if complaint else None,
        complaint_category=complaint.category if complaint else "",
        complaint_severity=complaint.severity if complaint else "",
        supervisor_id=complaint.supervisor_id if complaint else None,
    )


@router.post("/orders", response={201: OrderDetailOut, **WRITE_ERRORS}, summary="Record a service order")
def order_create(request, payload: OrderIn,
                 idempotency_key: str = Header("", alias="Idempotency-Key", max_length=services.IDEMPOTENCY_KEY_MAX)):
    """任务单. A repair order for a machine with an open order, or from the same phone within 7 days
    with a similar symptom, answers 409 ``duplicate_order`` with the existing order in ``current``:
    add a follow-up to it, or send ``duplicate_reason`` to create anyway. Send an ``Idempotency-Key``
    header to make retries safe: the same key returns the first result, never a second order."""
    body = json.dumps(payload.dict(), sort_keys=True, default=str)
    try:
        result = _order_create(request, payload, idempotency_key, body)
    except ValidationFailed as exc:
        # The intake service names its flat arguments; the caller sent the complaint nested.
        exc.fields = {INTAKE_FIELD_PATHS.get(k, k): v for k, v in exc.fields.items()}
        raise
    if result.replayed:
        return Status(201, result.response or _detail(request, result.order.pk))
    # The answer as validated once for the idempotency record: handed to ninja as the schema's own
    # instance, it is not validated a second time from its JSON form (issue 14: 3% of a create).
    return Status(201, result.rendered or OrderDetailOut.model_validate(_detail(request, result.order.pk)))


# OrderInput's flat names -> where the caller put them in OrderIn.
INTAKE_FIELD_PATHS = {
    "complaint_category": "complaint.category", "complaint_severity": "complaint.severity",
    "about_order_id": "complaint.about_order_id", "about_org_id": "complaint.about_org_id",
    "supervisor_id": "complaint.supervisor_id",
}


def _order_create(request, payload, idempotency_key, body):
    return services.order_create(
        actor=request.user, data=_order_input(payload), idempotency_key=idempotency_key or "",
        request_hash=hashlib.sha256(body.encode()).hexdigest(),
        # The service hands back the new order with everything the answer shows already in hand.
        render=lambda order: OrderDetailOut.model_validate(order_detail_out(order, request.user)),
    )


def _check_choices(**params) -> None:
    """Query filters that take codes (several separated by commas): each must be a known code."""
    errors = {}
    for name, (value, choices) in params.items():
        unknown = [v for v in (value or "").split(",") if v.strip() and v.strip() not in choices.values]
        if unknown:
            errors[name] = _("Unknown value %(value)s; pick from: %(choices)s.") % {
                "value": unknown[0][:40], "choices": ", ".join(choices.values)}
    if errors:
        raise ValidationFailed(_("The request has invalid fields."), fields=errors)


@router.get("/orders", response={200: list[OrderOut], **COMMON_ERRORS}, summary="List service orders")
@paginate(NewestFirstPages)
def order_list(
    request, status: str = Query("", max_length=300), order_type: str = Query("", max_length=20),
    level: str = Query("", max_length=12), mode: str = Query("", max_length=10), organization: DbId | None = None, technician: DbId | None = None, customer: DbId | None = None,
    machine: DbId | None = None, created_from: datetime | None = None, created_to: datetime | None = None,
    overdue: bool | None = None, number: str = Query("", max_length=20), channel: str = Query("", max_length=10),
):
    """``status`` takes one status or several separated by commas. ``overdue=true``: open orders past
    the appointment or promised time. An unknown value of ``status``, ``order_type``, ``level`` or
    ``mode`` is a 422 naming the parameter, never an empty list.

    Newest first. ``count`` counts up to 10,000 matches (``count_exact`` false beyond): the archive
    holds millions. ``next`` continues after the last row by cursor, at the same cost at any depth
    and unshifted by orders recorded meanwhile; ``page`` numbers still work."""
    _check_choices(status=(status, OrderStatus), order_type=(order_type, OrderType), level=(level, ServiceLevel),
                   mode=(mode, ServiceMode), channel=(channel, Channel))
    qs = selectors.order_search(
        request.user, status=status, order_type=order_type, level=level, mode=mode, organization=organization,
        technician=technician, customer=customer, machine=machine, created_from=created_from,
        created_to=created_to, overdue=overdue, number=number, channel=channel,
    )
    return LazyPage(qs, lambda o: order_out(o, request.user))


@router.get("/orders/{order_id}", response={200: OrderDetailOut, **COMMON_ERRORS}, summary="One service order")
def order_detail(request, order_id: DbId):
    return _detail(request, order_id)


@router.get("/orders/{order_id}/actions", response={200: list[ActionOut], **COMMON_ERRORS},
            summary="Actions you may take now")
def order_actions(request, order_id: DbId):
    """Read from the transition table: the actions this user may take on this order in its status.
    An action a guard blocks is listed with ``enabled: false`` and the reason."""
    return _actions_out(request.user, selectors.order_get(request.user, order_id))


def _action_precheck(request, order_id: DbInt, action: str, version: DbInt | None) -> None:
    # Who may do what comes before what was sent: 404/403/409 outrank 422. (On success the service
    # checks the same under the order's lock, so the happy path reads the order once.)
    order = selectors.order_get(request.user, order_id)
    try:
        policies.check_action(request.user, order, action, version)
    except Conflict as exc:
        raise _explained(exc, request.user, order, action) from None


def _explained(exc: Conflict, user, order, action: str) -> Conflict:
    """``invalid_transition`` names the field that was wrong (``action``) and what is possible now."""
    if exc.code != "invalid_transition":
        return exc
    allowed = [a["action"] for a in selectors.order_allowed_actions(user, order) if a["enabled"]]
    hint = (_("Possible now: %(actions)s.") % {"actions": ", ".join(allowed)}) if allowed else _(
        "No action of yours is possible on this order now.")
    exc.fields = {"action": f"{exc.message} {hint}"}
    exc.extra = {"allowed_actions": allowed}
    return exc


def _take_action(request, order_id: DbInt, action: str, payload) -> dict:
    data = payload.data
    service = getattr(services, f"order_{action}")
    try:
        changed = service(actor=request.user, order_id=order_id, version=payload.version, note=payload.note,
                          **_service_kwargs(action, data))
    except ValidationFailed as exc:
        # The services name their arguments; the caller sent them inside ``data``.
        exc.fields = {k if k in ("version", "note") else f"data.{k}": v for k, v in exc.fields.items()}
        raise
    except Conflict as exc:
        if exc.code == "invalid_transition":
            raise _explained(exc, request.user, selectors.order_get(request.user, order_id), action) from None
        raise
    # Rendered from the row the action wrote: after a rejection the organization no longer sees
    # the order, yet it is owed the answer to its own call (with the number masked again).
    return order_detail_out(changed, request.user)


def _precheck_from_url(request, kwargs: dict) -> None:
    """Called by the API's validation handler before it answers 422 for an action's body."""
    try:
        order_id = int(kwargs.get("order_id"))
    except (TypeError, ValueError):
        return
    action = kwargs.get("action")
    if action is None:
        name = getattr(getattr(request, "resolver_match", None), "url_name", "") or ""
        action = name.removeprefix("order_action_")
    version = None
    try:
        body = json.loads(request.body or b"{}")
        version = body.get("version") if isinstance(body, dict) and isinstance(body.get("version"), int) else None
    except (ValueError, UnicodeDecodeError):
        pass
    _action_precheck(request, order_id, action, version)


VALIDATION_PRECHECKS["order_action"] = _precheck_from_url

# Examples of ``data`` for the steps of the repair flow the README walks through.
ACTION_EXAMPLES: dict[str, dict] = {
    "forward": {}, "callback": {"reached": True},
    "diagnose": {"steps": ["询问故障现象", "检查燃油滤清器"]},
    "confirm_mode": {"service_mode": "on_site", "steps": ["电话判断：喷油器故障，需上门"]},
    "dispatch": {"organization_id": 5, "promised_at": "2026-05-02T10:00:00+08:00"},
    "assign": {"technician_id": 12}, "schedule": {"appointment_at": "2026-05-02T09:00:00+08:00"},
    "record_service": {"fault_found": "喷油器堵塞", "cause": "燃油不洁", "solution": "清洗喷油器，更换燃油滤芯",
                       "parts": [{"part_number": "FL-2026", "name": "燃油滤芯", "quantity": "1", "warranty": True}],
                       "labour_hours": "1.5", "component": "injector_nozzle"},
    "check_out": {}, "confirm": {"name": "刘大壮", "code": "123456"},
    "rate": {"score": 5, "comment": "师傅来得快，修得好"},
    "reject": {"reason": "本站技术员均在外地作业"}, "cancel": {"reason": "客户自行修好"},
    "escalate": {"problem": "更换喷油器后仍冒黑烟", "tried": "清洗喷油器、更换滤芯"},
    "quote": {"items": [{"kind": "part", "part_number": "FL-2026", "description": "燃油滤芯", "quantity": "1",
                         "unit_price": "85.00"}], "reason": "过保修期"},
    "pause_clock": {"reason": "waiting_parts"}, "follow_up": {"summary": "客户反映已正常作业", "channel": "phone"},
}


def _label(t, language: str) -> str:
    from django.utils import translation

    with translation.override(language):
        return str(t.label)


def _register_action(action: str) -> None:
    t = workflow.TRANSITIONS_BY_ACTION[action]
    data_schema = ACTION_DATA[action]
    camel = "".join(p.capitalize() for p in action.split("_"))
    required = any(f.is_required() for f in data_schema.model_fields.values())
    data_field = Field(..., description=f"The payload of “{action}”.") if required else Field(
        default_factory=data_schema, description=f"The payload of “{action}” (may be left out).")
    body = type(f"{camel}ActionIn", (Schema,), {
        "__annotations__": {"version": int, "note": str, "data": data_schema},
        "version": Field(..., description="The version you read; a stale one answers 409 stale_version."),
        "note": Field("", max_length=2000, description="A note for the timeline."),
        "data": data_field,
        "model_config": {"json_schema_extra": {"examples": [
            {"version": 3, "note": "", "data": ACTION_EXAMPLES.get(action, {})}]}},
    })
    zh, en = _label(t, "zh-hans"), _label(t, "en")
    target = "the same status (状态不变)" if t.target is None else (
        "back where the escalation left off (回到升级前的状态)" if t.target == workflow.RESUME else f"`{t.target}`")
    description = (
        f"**{en}** / **{zh}**\n\n"
        f"From / 适用状态: {', '.join(f'`{s}`' for s in sorted(t.sources))}. To / 结果状态: {target}. "
        f"Roles / 角色: {', '.join(f'`{r}`' for r in sorted(t.roles))}"
        + (f"; guard / 条件: `{t.guard.__name__}`" if t.guard else "") + ".\n\n"
        "Errors: 404 for an order you cannot see, 403 if the action is not yours, 409 `stale_version`, "
        "409 `invalid_transition` (with `allowed_actions`), 409 `guard_failed`, 422 for invalid `data` "
        "(fields named `data.<field>`). 错误：看不到的服务单 404，无权操作 403，版本过期/状态不允许/条件不满足 409，"
        "字段错误 422（字段名为 `data.<字段>`）。"
    )

    def handler(request, order_id: DbInt, payload: body):  # type: ignore[valid-type]
        return _take_action(request, order_id, action, payload)

    handler.__name__ = f"order_action_{action}"
    router.post(f"/orders/{{order_id}}/actions/{action}", response={200: OrderDetailOut, **WRITE_ERRORS},
                summary=f"{en} / {zh}", description=description, operation_id=f"order_action_{action}",
                url_name=f"order_action_{action}", tags=["order actions"])(handler)


for _action in ACTION_DATA:
    _register_action(_action)
    VALIDATION_PRECHECKS[f"order_action_{_action}"] = _precheck_from_url


@router.post("/orders/{order_id}/actions/{action}", response={200: OrderDetailOut, **WRITE_ERRORS},
             include_in_schema=False, url_name="order_action")
def order_action(request, order_id: DbInt, action: str, payload: ActionIn):
    """An action the table does not know: 404 for an order you cannot see, then 404 unknown_action."""
    _action_precheck(request, order_id, action, payload.version)
    raise NotFound(_("Unknown action %(action)s.") % {"action": action}, code="unknown_action")


@router.get("/orders/{order_id}/events", response={200: list[EventOut], **COMMON_ERRORS}, summary="The order's timeline")
def order_events(request, order_id: DbId):
    order = selectors.order_get(request.user, order_id)
    return [
        {"seq": e.seq, "at": e.at, "actor_id": e.actor_id, "actor_name": str(e.actor) if e.actor_id else None,
         "actor_org_id": e.actor_org_id, "action": e.action, "from_status": e.from_status, "to_status": e.to_status,
         "data": _masked_event_data(e.data, request.user, order), "note": e.note,
         "latitude": e.latitude, "longitude": e.longitude, "accuracy_m": e.accuracy_m}
        for e in selectors.order_events(request.user, order)
    ]


def _masked_event_data(data: dict, user, order) -> dict:
    return data  # events hold no phone numbers; kept as a seam for when they do


@router.get("/orders/{order_id}/dispatch-suggestions", response={200: list[SuggestionOut], **COMMON_ERRORS},
            summary="Organizations to dispatch to")
def order_dispatch_suggestions(request, order_id: DbId):
    """Service providers whose coverage holds the customer's county, city or province and who have a
    technician skilled in the machine's category, least open orders first."""
    order = selectors.order_get(request.user, order_id)
    if not workflow.may_take(request.user, order, workflow.TRANSITIONS_BY_ACTION["dispatch"]):
        raise Forbidden(_("Only a repair coordinator dispatches orders."))
    return [{"organization_id": o.pk, "code": o.code, "name": o.name, "kind": o.kind, "open_load": o.open_load}
            for o in selectors.dispatch_suggestions(order)]


# --- attachments ----------------------------------------------------------------------------

@router.post("/orders/{order_id}/attachments", response={201: AttachmentOut, **WRITE_ERRORS}, summary="Upload a file")
def attachment_upload(request, order_id: DbId, file: File[UploadedFile], kind: Form[str] = AttachmentKind.PHOTO):
    """A photo (JPEG, PNG, WebP), a PDF document or the customer's signature image, at most 10 MB.
    The type is read from the file's content, not its name."""
    attachment = services.attachment_add(actor=request.user, order_id=order_id, upload=file, kind=kind)
    return Status(201, attachment)


@router.get("/orders/{order_id}/attachments", response={200: list[AttachmentOut], **COMMON_ERRORS}, summary="List files")
def attachment_list(request, order_id: DbId):
    return list(selectors.order_attachments(request.user, selectors.order_get(request.user, order_id)))


@router.get(
    "/orders/{order_id}/attachments/{attachment_id}", response={**COMMON_ERRORS}, summary="Download a file",
    openapi_extra={"responses": {"200": {"description": "The file", "content": {
        t: {"schema": {"type": "string", "format": "binary"}}
        for t in ("image/jpeg", "image/png", "image/webp", "application/pdf")}}}},
)
def attachment_download(request, order_id: DbId, attachment_id: DbId):
    attachment = selectors.attachment_get(request.user, selectors.order_get(request.user, order_id), attachment_id)
    return attachment_download_response(attachment)


# --- quotes, escalations, complaints --------------------------------------------------------

@router.get("/orders/{order_id}/quotes", response={200: list[QuoteOut], **COMMON_ERRORS}, summary="Quotes of an order")
def quote_list(request, order_id: DbId):
    """有偿服务报价. Create one with the ``quote`` action; the customer's answer is ``quote_accept`` or ``quote_decline``."""
    return list(selectors.order_quotes(request.user, selectors.order_get(request.user, order_id)))


@router.get("/escalations", response={200: list[EscalationOut], **COMMON_ERRORS}, summary="Escalations (疑难升级单)")
@paginate(Pages)
def escalation_list(request, open: bool = False):
    """The technical engineers' queue with ``open=true``. Raise one with the ``escalate`` action."""
    return LazyPage(selectors.escalation_queryset(request.user, open_only=open), _escalation_out)


@router.get("/orders/{order_id}/escalations", response={200: list[EscalationOut], **COMMON_ERRORS},
            summary="Escalations of an order")
def order_escalation_list(request, order_id: DbId):
    order = selectors.order_get(request.user, order_id)
    return [_escalation_out(e) for e in order.escalations.select_related("order").order_by("raised_at")]


@router.get("/complaints", response={200: list[ComplaintOut], **COMMON_ERRORS}, summary="Complaints (投诉)")
@paginate(Pages)
def complaint_list(request, open: bool = False, supervisor: DbId | None = None):
    """Record one with POST /orders (``order_type: complaint``); a rating of 2 or lower opens one by itself."""
    qs = selectors.complaint_queryset(request.user, open_only=open)
    if supervisor is not None:
        qs = qs.filter(supervisor_id=supervisor)
    return LazyPage(qs, _complaint_out)
