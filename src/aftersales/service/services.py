"""Writes to service orders. One keyword-only function per action of the transition table
(``order_<action>``), plus creation and attachments.

Every action runs in one transaction: it locks the order row (SELECT ... FOR UPDATE on
PostgreSQL; SQLite's IMMEDIATE transactions already serialize writers), checks the table and the
caller's version, changes the order with ``UPDATE ... WHERE id=? AND version=?``, appends the
timeline event and queues the outbox messages. Any error rolls all of it back.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.accounts.models import SERVICE_PROVIDER_KINDS, Organization, RoleCode, User
from aftersales.accounts.policies import sees_whole_network
from aftersales.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from aftersales.core.phones import normalize_phone
from aftersales.notify.services import outbox_enqueue
from aftersales.registry import selectors as registry_selectors
from aftersales.registry import services as registry
from aftersales.registry.models import Customer, CustomerClass, ExchangeKind, Machine, MachineExchange, MachineStatus
from aftersales.service import hooks, policies, workflow
from aftersales.service import selectors as order_selectors
from aftersales.service.models import (
    OPEN_STATUSES,
    Attachment,
    AttachmentKind,
    Channel,
    Complaint,
    ComplaintCategory,
    ComplaintSeverity,
    Escalation,
    EscalationOutcome,
    IdempotencyKey,
    OrderEvent,
    OrderNumberSequence,
    OrderStatus,
    OrderType,
    PartUsage,
    Quote,
    QuoteStatus,
    Rating,
    ReturnKind,
    ReturnRequest,
    ServiceLevel,
    ServiceMode,
    ServiceOrder,
    ServiceRecord,
    Urgency,
)
from aftersales.warranty.parts import known_part

SHANGHAI = ZoneInfo("Asia/Shanghai")
DUPLICATE_WINDOW = timedelta(days=7)
CONFIRMATION_MAX_FAILURES = 5


# --- small helpers --------------------------------------------------------------------------

def _text(value, limit: int | None = None) -> str:
    text = (value or "").strip()
    return text[:limit] if limit else text


def _required_text(errors: dict, name: str, value, limit: int | None = None) -> str:
    text = _text(value, limit)
    if not text:
        errors[name] = _("This field is required.")
    return text


def _required(name: str, value, limit: int | None = None) -> str:
    """One required text field, or a 422 naming it."""
    errors: dict[str, str] = {}
    text = _required_text(errors, name, value, limit)
    _raise_if(errors)
    return text


def _raise_if(errors: dict, message: str | None = None) -> None:
    if errors:
        raise ValidationFailed(message or _("Nothing was changed."), fields=errors)


def _decimal(errors: dict, name: str, value, *, minimum: Decimal = Decimal(0), allow_none: bool = False) -> Decimal | None:
    if value in (None, ""):
        if not allow_none:
            errors[name] = _("This field is required.")
        return None
    try:
        number = Decimal(str(value))
        if not number.is_finite() or number < minimum:
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors[name] = _("Enter a number of at least %(min)s.") % {"min": minimum}
        return None
    return number


def _shanghai_today() -> date:
    return timezone.localtime(timezone.now(), SHANGHAI).date()


def _org_of(actor) -> Organization:
    if actor.organization_id is None:
        raise Forbidden(_("You belong to no organization of the service network."))
    return actor.organization


# --- the engine of every action -------------------------------------------------------------

def _lock(actor, order_id: int) -> ServiceOrder:
    try:
        # Only the order's row is locked; the joined rows come along because the hooks (SLA clocks,
        # search document) and the answer need them, and reading them here saves a query each.
        return (order_selectors.order_queryset_plain(actor).select_for_update(of=("self",))
                .select_related(*_HELD_RELATIONS).get(pk=order_id))
    except ServiceOrder.DoesNotExist:
        raise NotFound(_("Service order not found.")) from None


_SAVED_FIELDS = [f for f in ServiceOrder._meta.concrete_fields if not f.primary_key]
# What an action's order carries in memory: an action that changes one of these goes through the
# instance (``_set`` or ``Model.objects.create(order=order)``), so the copy stays true.
_HELD_RELATIONS = (*order_selectors.ORDER_PAGE_RELATED, *order_selectors.ORDER_CHILDREN)


def _save_if_version(order: ServiceOrder, expected_version: int) -> None:
    """Write the whole row only if nobody moved it on since we read it."""
    order.updated_at = timezone.now()
    values = {f.attname: getattr(order, f.attname) for f in _SAVED_FIELDS}
    if ServiceOrder.objects.filter(pk=order.pk, version=expected_version).update(**values) != 1:
        raise Conflict(_("The order was changed by someone else; reload it and decide again."), code="stale_version")


def _append_event(order: ServiceOrder, *, actor, action: str, from_status: str, to_status: str,
                  data: dict | None = None, note: str = "", at: datetime | None = None,
                  seq: int | None = None) -> OrderEvent:
    """The caller holds the order's row lock, so ``event_seq`` cannot be taken twice. ``seq``: the
    number the order row already counts (a new order is inserted with its first event counted)."""
    if seq is None:
        order.event_seq += 1
        seq = order.event_seq
    event = OrderEvent.objects.create(
        order=order, seq=seq, at=at or timezone.now(), actor=actor,
        actor_org_id=getattr(actor, "organization_id", None), action=action,
        from_status=from_status, to_status=to_status, data=data or {}, note=note or "",
    )
    order.__dict__.setdefault("_new_events", []).append(event)
    return event


def _changed(order: ServiceOrder) -> None:
    """Tell the registered hooks (SLA clocks, search index) about the events just appended."""
    events = order.__dict__.pop("_new_events", [])
    if events:
        hooks.order_changed(order, events)


def _set(obj, **fields) -> None:
    """Change a related row through the instance the order holds, so the answer shows the change."""
    for name, value in fields.items():
        setattr(obj, name, value)
    obj.save(update_fields=list(fields))


def _perform(*, actor, order_id: int, action: str, version: int, note: str = "",
             apply: Callable[[ServiceOrder], dict | None] | None = None) -> ServiceOrder:
    t = workflow.TRANSITIONS_BY_ACTION[action]
    with transaction.atomic():
        order = _lock(actor, order_id)
        policies.check_action(actor, order, action, version)
        from_status = order.status
        resume = None
        if t.target == workflow.RESUME:
            esc = order.escalations.filter(answered_at__isnull=True).first()
            resume = esc.resume_status if esc else None
        data = (apply(order) if apply else None) or {}
        order.status = t.target_for(order, resume)
        if order.status in (OrderStatus.CLOSED, OrderStatus.CANCELLED) and order.closed_at is None:
            order.closed_at = timezone.now()
        order.version = version + 1
        _append_event(order, actor=actor, action=action, from_status=from_status, to_status=order.status,
                      data=data, note=_text(note, 2000))
        _save_if_version(order, version)
        _changed(order)
        return order


# --- creation -------------------------------------------------------------------------------

@dataclass(frozen=True)
class OrderInput:
    order_type: str
    customer_id: int | None = None
    new_customer: registry.CustomerInput | None = None
    machine_id: int | None = None
    new_machine: registry.MachineInput | None = None
    contact_phone: str = ""
    contact_name: str = ""
    channel: str = Channel.PHONE
    purchase_date: date | None = None
    crop: str = ""
    operation: str = ""
    field_location: str = ""
    urgency: str = Urgency.NORMAL
    symptom: str = ""
    service_level: str = ""
    service_mode: str = ""
    override_reason: str = ""
    answer: str = ""
    duplicate_reason: str = ""
    promised_at: datetime | None = None
    # complaint (投诉)
    about_order_id: int | None = None
    about_org_id: int | None = None
    complaint_category: str = ""
    complaint_severity: str = ""
    supervisor_id: int | None = None
    # return / exchange (退换机)
    return_kind: str = ""
    fault_component: str = ""
    fault_serious: bool = False


@dataclass
class CreateResult:
    order: ServiceOrder
    response: dict = field(default_factory=dict)
    replayed: bool = False


def propose_service_level(customer: Customer, urgency: str = Urgency.NORMAL) -> str:
    """大客户 first; a machine stopped in the field is an emergency whatever the class."""
    if urgency == Urgency.CRITICAL:
        return ServiceLevel.EMERGENCY
    if customer.customer_class == CustomerClass.KEY_ACCOUNT:
        return ServiceLevel.KEY_ACCOUNT
    return ServiceLevel.FARMER


def warranty_evaluate(machine: Machine, *, fault=None) -> dict:
    """The warranty engine's answer for a stored machine today (Asia/Shanghai)."""
    from aftersales.warranty.services import evaluate_machine

    return evaluate_machine(machine=machine, on=_shanghai_today(), fault=fault)


def order_proposal(*, machine: Machine | None, customer: Customer, order_type: str, urgency: str = Urgency.NORMAL,
                   evaluation: dict | None = None) -> dict:
    """What the system proposes at intake: level from the customer, mode from the warranty engine
    (``evaluation``: the engine's answer for this machine, when the caller has it already)."""
    level = propose_service_level(customer, urgency)
    mode = ""
    if order_type == OrderType.CONSULTATION:
        mode, evaluation = ServiceMode.PHONE, None
    elif machine is not None and order_type == OrderType.REPAIR:
        evaluation = evaluation or warranty_evaluate(machine)
        mode = evaluation.get("service_mode") or ServiceMode.PAID
    return {"service_level": level, "service_mode": mode, "warranty": evaluation}


def _similar(a: str, b: str) -> bool:
    """Two fault descriptions name the same problem: Chinese has no spaces, so compare the sets
    of character pairs (bigrams); a third of them shared is enough to ask the agent."""
    a, b = "".join(a.split()), "".join(b.split())
    if not a or not b:
        return False
    if a in b or b in a:
        return True
    pairs_a = {a[i:i + 2] for i in range(len(a) - 1)} or {a}
    pairs_b = {b[i:i + 2] for i in range(len(b) - 1)} or {b}
    return len(pairs_a & pairs_b) / len(pairs_a | pairs_b) >= 0.3


def find_duplicate(*, machine: Machine | None, contact_phone: str, symptom: str) -> ServiceOrder | None:
    """An open order for the same machine, or a recent order from the same phone with a similar symptom."""
    live = ServiceOrder.objects.filter(order_type__in=[OrderType.REPAIR, OrderType.RETURN_EXCHANGE]).exclude(
        status=OrderStatus.CANCELLED
    )
    # Asked at every repair intake and usually answered "none": read ids and symptoms only, the
    # whole row only for the order found.
    found = None
    if machine is not None:
        found = (live.filter(machine=machine, status__in=OPEN_STATUSES).order_by("-created_at")
                 .values_list("pk", flat=True).first())
    if found is None:
        since = timezone.now() - DUPLICATE_WINDOW
        recent = live.filter(contact_phone=contact_phone, created_at__gte=since).order_by("-created_at")
        found = next((pk for pk, text in recent.values_list("pk", "symptom")[:20] if _similar(text, symptom)), None)
    return None if found is None else ServiceOrder.objects.get(pk=found)


def _next_number(today: date) -> str:
    """FW + day + 5-digit sequence. The upsert takes the day's row lock until our transaction
    ends, so concurrent creators queue on it and a number is never handed out twice; a rolled
    back create also rolls back its increment, so no committed number is ever reused."""
    table = connection.ops.quote_name(OrderNumberSequence._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (day, last) VALUES (%s, 1) "
            f"ON CONFLICT (day) DO UPDATE SET last = {table}.last + 1 RETURNING last",
            [today.isoformat()],
        )
        last = cursor.fetchone()[0]
    return f"FW{today:%Y%m%d}-{last:05d}"


def _prefixed(exc: ValidationFailed, prefix: str) -> dict:
    return {f"{prefix}.{k}": v for k, v in exc.fields.items()} or {prefix: exc.message}


@dataclass
class _ReadBeforeLock:
    customer: Customer | None = None
    machine: Machine | None = None
    warranty: dict | None = None


def _read_before_lock(actor, data: OrderInput) -> _ReadBeforeLock:
    """What intake only reads, done before the write transaction (on SQLite every other writer
    waits while one is open): the chosen customer and machine through the selectors, and the
    warranty answer for a repair. Inside the transaction they are locked by id and used as read."""
    known = _ReadBeforeLock()
    if data.customer_id is not None:
        known.customer = registry_selectors.customer_queryset(actor).filter(pk=data.customer_id).first()
    if data.machine_id is not None:
        known.machine = registry_selectors.machine_queryset(actor).filter(pk=data.machine_id).first()
        if known.machine is not None and data.order_type == OrderType.REPAIR:
            known.warranty = warranty_evaluate(known.machine)
    return known


def _lock_row(model, pk: int) -> bool:
    """Hold the row until the order commits, so two agents taking the same caller at once cannot
    both pass the duplicate guard. SQLite's write transaction already shuts out every other writer."""
    if not connection.features.has_select_for_update:
        return True
    return model.objects.select_for_update().filter(pk=pk).values_list("pk", flat=True).first() is not None


def _resolve_customer(actor, data: OrderInput, errors: dict, known: _ReadBeforeLock) -> Customer | None:
    if data.customer_id is not None:
        customer = known.customer
        if customer is not None and not _lock_row(Customer, customer.pk):
            customer = None
        if customer is None:
            errors["customer_id"] = _("Unknown customer #%(id)s.") % {"id": data.customer_id}
        return customer
    if data.new_customer is None:
        errors["customer_id"] = _("Pick a customer or enter a new one.")
        return None
    if errors:
        return None  # do not create a customer for an order that will fail anyway
    registered_by = None if sees_whole_network(actor) else actor.organization
    try:
        return registry.customer_create(data=data.new_customer, registered_by=registered_by)
    except ValidationFailed as exc:
        errors.update(_prefixed(exc, "new_customer"))
        return None


def _resolve_machine(actor, data: OrderInput, customer: Customer | None, errors: dict,
                     known: _ReadBeforeLock) -> Machine | None:
    if data.machine_id is not None:
        machine = known.machine
        if machine is not None and not _lock_row(Machine, machine.pk):
            machine = None
        if machine is None:
            errors["machine_id"] = _("Unknown machine #%(id)s.") % {"id": data.machine_id}
        elif customer is not None and machine.owner_id not in (None, customer.pk):
            errors["machine_id"] = _("This machine belongs to another customer.")
        return machine
    if data.new_machine is None:
        if data.order_type in (OrderType.REPAIR, OrderType.RETURN_EXCHANGE):
            errors["machine_id"] = _("A repair or a return needs the machine.")
        return None
    if errors or customer is None:
        return None
    registered_by = None if sees_whole_network(actor) else actor.organization
    try:
        new = registry.MachineInput(**{**data.new_machine.__dict__, "owner_id": customer.pk})
        return registry.machine_create(data=new, registered_by=registered_by)
    except ValidationFailed as exc:
        errors.update(_prefixed(exc, "new_machine"))
        return None


def _pick_supervisor(org: Organization | None, supervisor_id: int | None, errors: dict) -> User | None:
    supervisors = User.objects.filter(is_active=True, roles__code=RoleCode.SUPERVISOR)
    if supervisor_id is not None:
        chosen = supervisors.filter(pk=supervisor_id).first()
        if chosen is None:
            errors["supervisor_id"] = _("Not an active supervisor.")
        return chosen
    # A complaint goes to a supervisor at once (立即汇报上级): the least busy one of the maker's centres.
    open_complaints = Count(
        "supervised_complaints", filter=Q(supervised_complaints__order__status__in=OPEN_STATUSES), distinct=True
    )
    centre = supervisors.filter(organization__kind__in=["service_center", "technical_center", "repair_center"])
    return centre.annotate(load=open_complaints).order_by("load", "pk").first()


def _validate_intake(actor, data: OrderInput, errors: dict) -> None:
    if data.order_type not in OrderType.values:
        errors["order_type"] = _("Unknown order type.")
    if data.channel not in Channel.values:
        errors["channel"] = _("Unknown channel.")
    if data.urgency not in Urgency.values:
        errors["urgency"] = _("Unknown urgency.")
    if data.service_level and data.service_level not in ServiceLevel.values:
        errors["service_level"] = _("Unknown service level.")
    if data.service_mode and data.service_mode not in ServiceMode.values:
        errors["service_mode"] = _("Unknown service mode.")
    if data.order_type in (OrderType.REPAIR, OrderType.RETURN_EXCHANGE, OrderType.COMPLAINT) and not _text(data.symptom):
        errors["symptom"] = _("Describe the problem in the customer's words.")
    if data.order_type == OrderType.COMPLAINT:
        if data.complaint_category not in ComplaintCategory.values:
            errors["complaint_category"] = _("Pick a complaint category.")
        if data.complaint_severity not in ComplaintSeverity.values:
            errors["complaint_severity"] = _("Pick a severity.")
        if data.about_order_id is None and data.about_org_id is None:
            errors["about_order_id"] = _("A complaint is about an earlier order or an organization.")
    if data.order_type == OrderType.RETURN_EXCHANGE and data.return_kind not in ReturnKind.values:
        errors["return_kind"] = _("Say whether the customer wants an exchange or a return.")
    if data.fault_component and not known_part(data.fault_component):
        errors["fault_component"] = _("Unknown component %(code)s.") % {"code": data.fault_component}
    if data.answer and data.order_type != OrderType.CONSULTATION:
        errors["answer"] = _("Only a consultation is answered at intake.")


def _intake(actor, data: OrderInput, known: _ReadBeforeLock | None = None) -> ServiceOrder:
    known = known or _read_before_lock(actor, data)  # a complaint opened by a rating reads here
    errors: dict[str, str] = {}
    org = _org_of(actor)
    _validate_intake(actor, data, errors)
    contact_phone = ""
    if data.contact_phone:
        try:
            contact_phone = normalize_phone(data.contact_phone, field="contact_phone")
        except ValidationFailed as exc:
            errors.update(exc.fields)
    about_order = None
    if data.about_order_id is not None:
        about_order = order_selectors.order_queryset_plain(actor).filter(pk=data.about_order_id).first()
        if about_order is None:
            errors["about_order_id"] = _("Unknown service order #%(id)s.") % {"id": data.about_order_id}
    about_org = None
    if data.about_org_id is not None:
        about_org = Organization.objects.filter(pk=data.about_org_id).first()
        if about_org is None:
            errors["about_org_id"] = _("Unknown organization #%(id)s.") % {"id": data.about_org_id}
    supervisor = _pick_supervisor(org, data.supervisor_id, errors) if data.order_type == OrderType.COMPLAINT else None

    customer = _resolve_customer(actor, data, errors, known)
    machine = _resolve_machine(actor, data, customer, errors, known)
    _raise_if(errors, _("The service order was not saved."))

    if not contact_phone:
        primary = customer.phones.order_by("-is_primary", "id").first()
        if primary is None:
            raise ValidationFailed(_("The service order was not saved."), fields={"contact_phone": _("This field is required.")})
        contact_phone = primary.number

    symptom = _text(data.symptom)
    duplicate = None
    if data.order_type == OrderType.REPAIR:
        duplicate = find_duplicate(machine=machine, contact_phone=contact_phone, symptom=symptom)
        if duplicate is not None and not _text(data.duplicate_reason):
            raise Conflict(
                _("This looks like order %(number)s, which is still being handled. Add the call to it as a "
                  "follow-up, or give a reason to create a new order.") % {"number": duplicate.number},
                code="duplicate_order", current=policies.order_brief(duplicate),
            )

    proposal = order_proposal(machine=machine, customer=customer, order_type=data.order_type, urgency=data.urgency,
                              evaluation=known.warranty if machine is known.machine else None)
    level = data.service_level or proposal["service_level"]
    mode = data.service_mode or proposal["service_mode"]
    overridden = {k: (proposal[k], v) for k, v in (("service_level", level), ("service_mode", mode))
                  if data.__dict__[k] and v != proposal[k]}
    if overridden and not _text(data.override_reason):
        raise ValidationFailed(
            _("Say why you change the proposal."), fields={"override_reason": _("Required when the proposal is overridden.")}
        )

    evaluation = proposal["warranty"]
    if data.order_type == OrderType.RETURN_EXCHANGE:
        evaluation = warranty_evaluate(machine, fault=_return_fault(data))
    whole = (evaluation or {}).get("coverage", {}).get("whole_machine", {})
    policy = (evaluation or {}).get("policy", {})
    status = OrderStatus.AWAITING_APPROVAL if data.order_type == OrderType.RETURN_EXCHANGE else OrderStatus.NEW
    order = ServiceOrder.objects.create(
        number=_next_number(_shanghai_today()),
        order_type=data.order_type, channel=data.channel, status=status,
        customer=customer, contact_name=_text(data.contact_name, 50) or customer.name, contact_phone=contact_phone,
        machine=machine, purchase_date=data.purchase_date or (machine.warranty_start if machine else None),
        warranty_status=whole.get("state", ""), warranty_remedy=(evaluation or {}).get("remedy", ""),
        warranty_policy_name=policy.get("name", ""), warranty_policy_version=policy.get("version"),
        warranty_reasons=(evaluation or {}).get("reasons", []),
        warranty_end=date.fromisoformat(whole["end"]) if whole.get("end") else None,
        crop=_text(data.crop, 40), operation=_text(data.operation, 40), field_location=_text(data.field_location, 200),
        urgency=data.urgency, symptom=symptom,
        service_level=level, proposed_level=proposal["service_level"],
        service_mode=mode, proposed_mode=proposal["service_mode"], override_reason=_text(data.override_reason, 300),
        owning_org=org, owner=actor, duplicate_of=duplicate, related_order=about_order,
        promised_at=data.promised_at, tracking_token=secrets.token_urlsafe(16), event_seq=1,
    )
    _append_event(order, seq=1, actor=actor, action="create", from_status="", to_status=status, data={
        "order_type": order.order_type, "channel": order.channel,
        "proposal": {"service_level": proposal["service_level"], "service_mode": proposal["service_mode"]},
        "overridden": {k: {"proposed": p, "chosen": c} for k, (p, c) in overridden.items()},
        "override_reason": order.override_reason,
        "warranty": {"status": order.warranty_status, "policy": policy, "remedy": order.warranty_remedy},
        **({"duplicate_of": duplicate.number, "duplicate_reason": _text(data.duplicate_reason, 300)} if duplicate else {}),
    })
    complaint = return_request = None
    if data.order_type == OrderType.COMPLAINT:
        complaint = Complaint.objects.create(
            order=order, about_order=about_order, about_org=about_org or (about_order.assigned_org if about_order else None),
            category=data.complaint_category, severity=data.complaint_severity, supervisor=supervisor,
        )
    if data.order_type == OrderType.RETURN_EXCHANGE:
        remedy = (evaluation or {}).get("remedy", "")
        eligible = remedy in ("exchange", "return") and (data.return_kind == remedy or remedy == "return")
        return_request = ReturnRequest.objects.create(order=order, kind=data.return_kind, eligibility=evaluation or {},
                                                      eligible=eligible)
    if data.order_type == OrderType.CONSULTATION and _text(data.answer):
        # 咨询服务单: answered while the caller is on the line, closed at once.
        order.answer = _text(data.answer)
        order.status = OrderStatus.CLOSED
        order.closed_at = timezone.now()
        _append_event(order, actor=actor, action="answer", from_status=OrderStatus.NEW, to_status=OrderStatus.CLOSED,
                      data={"answer": order.answer})
        order.save(update_fields=["event_seq", "answer", "status", "closed_at"])
    else:
        outbox_enqueue(channel="sms", recipient=contact_phone, template="order_created", order=order,
                       context={"number": order.number, "order_type": order.order_type,
                                "tracking_path": f"/t/{order.tracking_token}"})
    _know_new_relations(order, complaint=complaint, return_request=return_request)
    _changed(order)
    return order


def _know_new_relations(order: ServiceOrder, *, complaint=None, return_request=None) -> None:
    """A new order's dependent rows are the ones just written: record that on the instance, so
    the hooks and the answer read them from memory instead of asking the database again."""
    known = {"complaint": complaint, "return_request": return_request}
    for name in order_selectors.ORDER_CHILDREN:
        ServiceOrder._meta.get_field(name).set_cached_value(order, known.get(name))
    order._prefetched_objects_cache = {"escalations": order.escalations.none(), "quotes": order.quotes.none()}


def _return_fault(data: OrderInput) -> dict:
    # The recurring fault, so the engine can count earlier repairs of the same component; a return
    # is what the rules give when no machine of the same model can replace it.
    return {"customer_requests_exchange": True, "same_model_available": data.return_kind != ReturnKind.RETURN,
            "component": data.fault_component or None, "serious": bool(data.fault_serious)}


def order_create(*, actor, data: OrderInput, idempotency_key: str = "", request_hash: str = "",
                 render: Callable[[ServiceOrder], dict] | None = None) -> CreateResult:
    """Record a new order (任务单). With an idempotency key, a retry returns the first result."""
    if not policies.may_create_order(actor):
        raise Forbidden(_("You may not record service orders."))
    key = _text(idempotency_key, 100)
    if key:
        replay = _replay(actor, key, request_hash)
        if replay is not None:
            return replay
    known = _read_before_lock(actor, data)
    try:
        with transaction.atomic():
            # The key row goes in first: a concurrent retry with the same key waits on the unique
            # index until we commit, then fails and replays our answer instead of creating again.
            stored = IdempotencyKey.objects.create(user=actor, key=key, request_hash=request_hash) if key else None
            order = _intake(actor, data, known)
            response = render(order) if render else {}
            if stored is not None:
                stored.order, stored.response = order, response
                stored.save(update_fields=["order", "response"])
    except IntegrityError:
        # A concurrent retry with the same key committed first; ours rolled back whole.
        replay = _replay(actor, key, request_hash) if key else None
        if replay is None:
            raise
        return replay
    return CreateResult(order=order, response=response)


def _replay(actor, key: str, request_hash: str) -> CreateResult | None:
    stored = IdempotencyKey.objects.filter(user=actor, key=key).select_related("order").first()
    if stored is None:
        return None
    if stored.request_hash != request_hash:
        raise ValidationFailed(
            _("This Idempotency-Key was used for a different request."), code="idempotency_key_reused",
            fields={"Idempotency-Key": _("Use a new key for a new request.")},
        )
    return CreateResult(order=stored.order, response=stored.response, replayed=True)


# --- hotline ----------------------------------------------------------------------------------

def order_answer(*, actor, order_id: int, version: int, answer: str, note: str = "") -> ServiceOrder:
    """咨询服务单: the question is answered; the order closes with the answer recorded."""
    def apply(order):
        order.answer = _required("answer", answer)
        return {"answer": order.answer}
    return _perform(actor=actor, order_id=order_id, action="answer", version=version, note=note, apply=apply)


def _user_with_role(errors: dict, name: str, user_id: int | None, role: str, org_id: int | None = None) -> User | None:
    qs = User.objects.filter(pk=user_id, is_active=True, roles__code=role)
    if org_id is not None:
        qs = qs.filter(organization_id=org_id)
    user = qs.select_related("organization").first() if user_id is not None else None
    if user_id is not None and user is None:
        errors[name] = _("Not an active %(role)s here.") % {"role": RoleCode(role).label}
    return user


def order_forward(*, actor, order_id: int, version: int, hotline_technician_id: int | None = None, note: str = "") -> ServiceOrder:
    """信息传递: hand the order on to a hotline technician (the 15-minute handoff)."""
    def apply(order):
        errors = {}
        tech = _user_with_role(errors, "hotline_technician_id", hotline_technician_id, RoleCode.HOTLINE_TECHNICIAN)
        _raise_if(errors)
        order.hotline_technician = tech
        order.forwarded_at = timezone.now()
        return {"hotline_technician_id": tech.pk if tech else None,
                "received_at": order.created_at.isoformat(), "forwarded_at": order.forwarded_at.isoformat()}
    return _perform(actor=actor, order_id=order_id, action="forward", version=version, note=note, apply=apply)


def order_callback(*, actor, order_id: int, version: int, reached: bool = True, note: str = "") -> ServiceOrder:
    def apply(order):
        order.hotline_technician_id = order.hotline_technician_id or actor.pk
        order.callback_at = timezone.now()
        return {"reached": reached, "called_back_at": order.callback_at.isoformat()}
    return _perform(actor=actor, order_id=order_id, action="callback", version=version, note=note, apply=apply)


def _steps(errors: dict, steps, *, required: bool = False) -> list[str]:
    cleaned = [_text(s, 500) for s in (steps or []) if _text(s)]
    if required and not cleaned:
        errors["steps"] = _("Record at least one diagnosis step.")
    return cleaned


def order_diagnose(*, actor, order_id: int, version: int, steps: list[str], note: str = "") -> ServiceOrder:
    def apply(order):
        errors = {}
        cleaned = _steps(errors, steps, required=True)
        _raise_if(errors)
        order.diagnosis = [*order.diagnosis, *cleaned]
        return {"steps": cleaned}
    return _perform(actor=actor, order_id=order_id, action="diagnose", version=version, note=note, apply=apply)


def order_solve_by_phone(*, actor, order_id: int, version: int, solution: str, steps: list[str] = (), note: str = "") -> ServiceOrder:
    """电话解决: the hotline technician fixed it on the phone; closes with the solution recorded."""
    def apply(order):
        errors = {}
        order.answer = _required_text(errors, "solution", solution)
        cleaned = _steps(errors, steps)
        _raise_if(errors)
        order.diagnosis = [*order.diagnosis, *cleaned]
        order.service_mode = ServiceMode.PHONE
        order.completed_at = timezone.now()
        return {"solution": order.answer, "steps": cleaned}
    return _perform(actor=actor, order_id=order_id, action="solve_by_phone", version=version, note=note, apply=apply)


def order_confirm_mode(*, actor, order_id: int, version: int, service_mode: str, reason: str = "",
                       steps: list[str] = (), note: str = "") -> ServiceOrder:
    """The hotline technician fixes the service mode; the order waits for the repair coordinator."""
    def apply(order):
        errors = {}
        if service_mode not in ServiceMode.values or service_mode == ServiceMode.PHONE:
            errors["service_mode"] = _("Pick on-site, carry-in, mail-in or paid; a phone answer is 'solved by phone'.")
        why = _text(reason, 300)
        if service_mode != order.proposed_mode and not why and "service_mode" not in errors:
            errors["reason"] = _("Required when the mode differs from the warranty proposal.")
        cleaned = _steps(errors, steps)
        _raise_if(errors)
        previous = order.service_mode
        order.service_mode = service_mode
        order.diagnosis = [*order.diagnosis, *cleaned]
        return {"service_mode": service_mode, "previous": previous, "reason": why, "steps": cleaned}
    return _perform(actor=actor, order_id=order_id, action="confirm_mode", version=version, note=note, apply=apply)


# --- dispatch -------------------------------------------------------------------------------

def order_dispatch(*, actor, order_id: int, version: int, organization_id: int, technician_id: int | None = None,
                   promised_at: datetime | None = None, note: str = "") -> ServiceOrder:
    """派工: to the repair center, a direct branch or an authorized agency, optionally a technician."""
    def apply(order):
        errors = {}
        org = Organization.objects.filter(pk=organization_id, is_active=True, kind__in=SERVICE_PROVIDER_KINDS).first()
        if org is None:
            errors["organization_id"] = _("Not an active repair center, branch or authorized agency.")
        tech = _user_with_role(errors, "technician_id", technician_id, RoleCode.FIELD_TECHNICIAN, org.pk if org else None)
        _raise_if(errors)
        order.assigned_org, order.assigned_technician = org, tech
        order.dispatched_at = timezone.now()
        if promised_at is not None:
            order.promised_at = promised_at
        outbox_enqueue(channel="sms", recipient=order.contact_phone, template="order_dispatched", order=order,
                       context={"number": order.number, "organization": org.name,
                                "organization_phone": org.contact_phone,
                                "technician": str(tech) if tech else ""})
        return {"organization_id": org.pk, "technician_id": tech.pk if tech else None}
    return _perform(actor=actor, order_id=order_id, action="dispatch", version=version, note=note, apply=apply)


def order_accept(*, actor, order_id: int, version: int, note: str = "") -> ServiceOrder:
    return _perform(actor=actor, order_id=order_id, action="accept", version=version, note=note,
                    apply=lambda order: {"organization_id": order.assigned_org_id})


def order_reject(*, actor, order_id: int, version: int, reason: str, note: str = "") -> ServiceOrder:
    """The organization cannot take it: back to the repair coordinator with the reason."""
    def apply(order):
        why = _required("reason", reason, 300)
        data = {"organization_id": order.assigned_org_id, "reason": why}
        order.assigned_org = order.assigned_technician = None
        return data
    return _perform(actor=actor, order_id=order_id, action="reject", version=version, note=note, apply=apply)


def order_assign(*, actor, order_id: int, version: int, technician_id: int | None = None, note: str = "") -> ServiceOrder:
    def apply(order):
        errors = {}
        chosen = technician_id or order.assigned_technician_id
        if chosen is None:
            errors["technician_id"] = _("This field is required.")
        tech = _user_with_role(errors, "technician_id", chosen, RoleCode.FIELD_TECHNICIAN, order.assigned_org_id)
        _raise_if(errors)
        order.assigned_technician = tech
        return {"technician_id": tech.pk}
    return _perform(actor=actor, order_id=order_id, action="assign", version=version, note=note, apply=apply)


# --- service by the technician --------------------------------------------------------------

def order_tech_accept(*, actor, order_id: int, version: int, note: str = "") -> ServiceOrder:
    return _perform(actor=actor, order_id=order_id, action="tech_accept", version=version, note=note)


def order_tech_decline(*, actor, order_id: int, version: int, reason: str, note: str = "") -> ServiceOrder:
    def apply(order):
        why = _required("reason", reason, 300)
        data = {"technician_id": order.assigned_technician_id, "reason": why}
        order.assigned_technician = None
        return data
    return _perform(actor=actor, order_id=order_id, action="tech_decline", version=version, note=note, apply=apply)


def order_schedule(*, actor, order_id: int, version: int, appointment_at: datetime, note: str = "") -> ServiceOrder:
    """守时服务: the time promised to the customer; 'overdue' is measured against it."""
    def apply(order):
        if appointment_at is None or appointment_at < timezone.now() - timedelta(minutes=5):
            raise ValidationFailed(_("Nothing was changed."), fields={"appointment_at": _("Pick a time from now on.")})
        order.appointment_at = order.promised_at = appointment_at
        return {"appointment_at": appointment_at.isoformat()}
    return _perform(actor=actor, order_id=order_id, action="schedule", version=version, note=note, apply=apply)


def _quote_lines(errors: dict, items) -> tuple[list[dict], Decimal, Decimal]:
    lines, parts, labour = [], Decimal(0), Decimal(0)
    if not items:
        errors["items"] = _("A quote needs at least one line.")
    for i, item in enumerate(items or []):
        kind = item.get("kind", "part")
        if kind not in ("part", "labour"):
            errors[f"items[{i}].kind"] = _("Use part or labour.")
        qty = _decimal(errors, f"items[{i}].quantity", item.get("quantity"), minimum=Decimal("0.01"))
        price = _decimal(errors, f"items[{i}].unit_price", item.get("unit_price"))
        description = _text(item.get("description") or item.get("name"), 100)
        if kind == "part" and not _text(item.get("part_number")):
            errors[f"items[{i}].part_number"] = _("This field is required.")
        if qty is None or price is None:
            continue
        amount = (qty * price).quantize(Decimal("0.01"))
        if kind == "labour":
            labour += amount
        else:
            parts += amount
        lines.append({"kind": kind, "part_number": _text(item.get("part_number"), 40), "description": description,
                      "quantity": str(qty), "unit_price": str(price), "amount": str(amount)})
    return lines, parts, labour


def order_quote(*, actor, order_id: int, version: int, items: list[dict], reason: str = "", note: str = "") -> ServiceOrder:
    """有偿服务: parts and labour priced and told to the customer before work starts."""
    def apply(order):
        errors = {}
        lines, parts, labour = _quote_lines(errors, items)
        _raise_if(errors)
        order.quotes.filter(status=QuoteStatus.PROPOSED).update(status=QuoteStatus.SUPERSEDED)
        quote = Quote.objects.create(order=order, items=lines, parts_total=parts, labour_total=labour,
                                     total=parts + labour, reason=_text(reason, 300), created_by=actor)
        return {"quote_id": quote.pk, "total": str(quote.total)}
    return _perform(actor=actor, order_id=order_id, action="quote", version=version, note=note, apply=apply)


def _decide_quote(order, status: str, note: str) -> dict:
    quote = order.quotes.filter(status=QuoteStatus.PROPOSED).order_by("-id").first()
    quote.status, quote.decided_at, quote.decided_note = status, timezone.now(), _text(note, 300)
    quote.save(update_fields=["status", "decided_at", "decided_note"])
    return {"quote_id": quote.pk, "total": str(quote.total)}


def order_quote_accept(*, actor, order_id: int, version: int, note: str = "") -> ServiceOrder:
    return _perform(actor=actor, order_id=order_id, action="quote_accept", version=version, note=note,
                    apply=lambda order: _decide_quote(order, QuoteStatus.ACCEPTED, note))


def order_quote_decline(*, actor, order_id: int, version: int, note: str = "") -> ServiceOrder:
    return _perform(actor=actor, order_id=order_id, action="quote_decline", version=version, note=note,
                    apply=lambda order: _decide_quote(order, QuoteStatus.DECLINED, note))


def order_check_in(*, actor, order_id: int, version: int, note: str = "") -> ServiceOrder:
    return _perform(actor=actor, order_id=order_id, action="check_in", version=version, note=note,
                    apply=lambda order: {"arrived_at": timezone.now().isoformat(),
                                         "late": bool(order.appointment_at and order.appointment_at < timezone.now())})


def order_receive(*, actor, order_id: int, version: int, inbound_tracking: str = "", note: str = "") -> ServiceOrder:
    """送修 / 寄修: the machine is in the workshop; a mail-in comes with its tracking number."""
    def apply(order):
        tracking = _text(inbound_tracking, 60)
        if order.service_mode == ServiceMode.MAIL_IN and not tracking:
            raise ValidationFailed(_("Nothing was changed."), fields={"inbound_tracking": _("A mail-in needs the tracking number.")})
        order.inbound_tracking = tracking
        return {"inbound_tracking": tracking}
    return _perform(actor=actor, order_id=order_id, action="receive", version=version, note=note, apply=apply)


@dataclass(frozen=True)
class PartInput:
    part_number: str
    quantity: Decimal | str | int
    name: str = ""
    warranty: bool = True
    unit_price: Decimal | str | int = 0


def order_record_service(*, actor, order_id: int, version: int, fault_found: str, solution: str, cause: str = "",
                         diagnosis_steps: list[str] = (), parts: list[PartInput] = (), labour_hours=0,
                         hours_meter=None, photo_ids: list[int] = (), component: str = "whole_machine",
                         serious: bool = False, note: str = "") -> ServiceOrder:
    """服务记录单: replaces an earlier record of the same visit; the event keeps every version."""
    def apply(order):
        errors: dict[str, str] = {}
        component_code = (component or "whole_machine").strip()
        if not known_part(component_code):
            errors["component"] = _("Unknown component %(code)s.") % {"code": component_code}
        found = _required_text(errors, "fault_found", fault_found)
        fix = _required_text(errors, "solution", solution)
        hours = _decimal(errors, "labour_hours", labour_hours)
        meter = _decimal(errors, "hours_meter", hours_meter, allow_none=True)
        rows = []
        for i, p in enumerate(parts or []):
            number = _required_text(errors, f"parts[{i}].part_number", p.part_number, 40)
            qty = _decimal(errors, f"parts[{i}].quantity", p.quantity, minimum=Decimal("0.01"))
            price = _decimal(errors, f"parts[{i}].unit_price", p.unit_price)
            rows.append((number, qty, price, p))
        photos = list(order.attachments.filter(pk__in=list(photo_ids or [])).values_list("pk", flat=True))
        if set(photos) != set(photo_ids or []):
            errors["photo_ids"] = _("Upload the photos to this order first.")
        if meter is not None and order.machine_id and "hours_meter" not in errors:
            try:
                registry.machine_record_hours(machine=order.machine, hours=meter, read_on=_shanghai_today(),
                                              source=f"service {order.number}", user=actor)
            except ValidationFailed as exc:
                errors["hours_meter"] = exc.fields.get("hours") or exc.message
        _raise_if(errors)
        ServiceRecord.objects.filter(order=order).delete()
        record = ServiceRecord.objects.create(
            order=order, technician=actor, fault_found=found, cause=_text(cause), solution=fix,
            diagnosis_steps=_steps(errors, diagnosis_steps), labour_hours=hours, hours_meter=meter,
            component=component_code, serious=bool(serious),
        )
        PartUsage.objects.bulk_create([
            PartUsage(record=record, part_number=n, name=_text(p.name, 100), quantity=q, warranty=bool(p.warranty), unit_price=pr)
            for n, q, pr, p in rows
        ])
        return {"service_record_id": record.pk, "parts": [{"part_number": n, "quantity": str(q), "warranty": bool(p.warranty)}
                                                           for n, q, _pr, p in rows],
                "labour_hours": str(hours), "hours_meter": str(meter) if meter is not None else None, "photo_ids": photos,
                "component": component_code, "serious": bool(serious)}
    return _perform(actor=actor, order_id=order_id, action="record_service", version=version, note=note, apply=apply)


def _code_hash(order: ServiceOrder, code: str) -> str:
    # Keyed by the secret and the order, so a leaked hash column cannot be tried offline cheaply.
    return hmac.new(settings.SECRET_KEY.encode(), f"{order.pk}:{code}".encode(), hashlib.sha256).hexdigest()


def _issue_code(order: ServiceOrder) -> None:
    code = f"{secrets.randbelow(10**6):06d}"
    order.confirmation_code_hash = _code_hash(order, code)
    order.confirmation_failures = 0
    # The code lives only in the outbox (to the customer's phone), never on the order.
    outbox_enqueue(channel="sms", recipient=order.contact_phone, template="confirmation_code", order=order,
                   context={"number": order.number, "code": code})


def order_check_out(*, actor, order_id: int, version: int, outbound_tracking: str = "", note: str = "") -> ServiceOrder:
    def apply(order):
        tracking = _text(outbound_tracking, 60)
        if order.service_mode == ServiceMode.MAIL_IN and not tracking:
            raise ValidationFailed(_("Nothing was changed."), fields={"outbound_tracking": _("Send the machine back with a tracking number.")})
        order.outbound_tracking = tracking
        _issue_code(order)
        return {"left_at": timezone.now().isoformat(), "outbound_tracking": tracking}
    return _perform(actor=actor, order_id=order_id, action="check_out", version=version, note=note, apply=apply)


def order_resend_code(*, actor, order_id: int, version: int, note: str = "") -> ServiceOrder:
    def apply(order):
        _issue_code(order)
        return {}
    return _perform(actor=actor, order_id=order_id, action="resend_code", version=version, note=note, apply=apply)


def order_confirm(*, actor, order_id: int, version: int, name: str = "", signature_id: int | None = None,
                  code: str = "", note: str = "") -> ServiceOrder:
    """The customer confirms: a name and a signature image, or the code sent to their phone."""
    def apply(order):
        errors = {}
        how = ""
        if _text(code):
            if order.confirmation_failures >= CONFIRMATION_MAX_FAILURES:
                errors["code"] = _("Too many wrong codes; send a new one.")
            elif not order.confirmation_code_hash or not hmac.compare_digest(order.confirmation_code_hash, _code_hash(order, _text(code))):
                raise _WrongCode()
            how = "code"
        else:
            who = _required_text(errors, "name", name, 50)
            if signature_id is None or not order.attachments.filter(pk=signature_id, kind=AttachmentKind.SIGNATURE).exists():
                errors["signature_id"] = _("Upload the customer's signature to this order first.")
            order.confirmed_by_name = who
            how = "signature"
        _raise_if(errors)
        order.confirmed_by_name = order.confirmed_by_name or order.contact_name
        order.confirmed_at = order.completed_at = timezone.now()
        order.confirmation_code_hash = ""
        outbox_enqueue(channel="sms", recipient=order.contact_phone, template="order_completed", order=order,
                       context={"number": order.number, "rating_path": f"/t/{order.tracking_token}"})
        return {"how": how, "name": order.confirmed_by_name, "signature_id": signature_id if how == "signature" else None}
    try:
        return _perform(actor=actor, order_id=order_id, action="confirm", version=version, note=note, apply=apply)
    except _WrongCode:
        # Counted outside the rolled-back transaction, so guessing is limited.
        ServiceOrder.objects.filter(pk=order_id).update(confirmation_failures=F("confirmation_failures") + 1)
        raise ValidationFailed(_("Nothing was changed."), fields={"code": _("The code is not right.")}) from None


class _WrongCode(Exception):
    pass


# --- escalation -----------------------------------------------------------------------------

def order_escalate(*, actor, order_id: int, version: int, problem: str, tried: str = "", note: str = "") -> ServiceOrder:
    """疑难升级单: lifted to the technical engineers with what was already tried."""
    def apply(order):
        text = _required("problem", problem)
        esc = Escalation.objects.create(order=order, raised_by=actor, raised_at=timezone.now(), problem=text,
                                        tried=_text(tried), resume_status=order.status)
        return {"escalation_id": esc.pk, "resume_status": esc.resume_status}
    return _perform(actor=actor, order_id=order_id, action="escalate", version=version, note=note, apply=apply)


def order_answer_escalation(*, actor, order_id: int, version: int, outcome: str, answer: str, note: str = "") -> ServiceOrder:
    """The engineer answers (guidance, takes it over, or a product quality issue); the order resumes."""
    def apply(order):
        errors = {}
        if outcome not in EscalationOutcome.values:
            errors["outcome"] = _("Use guidance, taken_over or quality_issue.")
        text = _required_text(errors, "answer", answer)
        _raise_if(errors)
        esc = order.escalations.get(answered_at__isnull=True)
        esc.engineer, esc.outcome, esc.answer, esc.answered_at = actor, outcome, text, timezone.now()
        esc.save(update_fields=["engineer", "outcome", "answer", "answered_at"])
        return {"escalation_id": esc.pk, "outcome": outcome}
    return _perform(actor=actor, order_id=order_id, action="answer_escalation", version=version, note=note, apply=apply)


# --- return / exchange ----------------------------------------------------------------------

def _decide_return(order, actor, decision: str, reason: str) -> dict:
    why = _required("reason", reason)
    _set(order.return_request, decision=decision, decision_reason=why, decided_by=actor)
    return {"decision": decision, "reason": why, "eligible": order.return_request.eligible}


def order_approve_return(*, actor, order_id: int, version: int, reason: str, note: str = "") -> ServiceOrder:
    return _perform(actor=actor, order_id=order_id, action="approve_return", version=version, note=note,
                    apply=lambda order: _decide_return(order, actor, "approved", reason))


def order_reject_return(*, actor, order_id: int, version: int, reason: str, note: str = "") -> ServiceOrder:
    return _perform(actor=actor, order_id=order_id, action="reject_return", version=version, note=note,
                    apply=lambda order: _decide_return(order, actor, "rejected", reason))


def order_complete_exchange(*, actor, order_id: int, version: int, new_serial_number: str, engine_number: str = "",
                            model_code: str = "", note: str = "") -> ServiceOrder:
    """The new machine is handed over; its warranty starts today (整机更换后三包有效期重新计算)."""
    def apply(order):
        old = Machine.objects.select_for_update().select_related("model").get(pk=order.machine_id)
        today = _shanghai_today()
        try:
            new = registry.machine_create(data=registry.MachineInput(
                serial_number=new_serial_number, model_code=model_code or old.model.code, owner_id=old.owner_id,
                engine_number=engine_number, invoice_date=today, delivery_date=today,
                selling_dealer_id=old.selling_dealer_id, notes=_("Exchanged for %(serial)s") % {"serial": old.serial_number},
            ), registered_by=old.registered_by)
        except ValidationFailed as exc:
            raise ValidationFailed(_("Nothing was changed."), fields={
                {"serial_number": "new_serial_number", "model_code": "model_code"}.get(k, k): v for k, v in exc.fields.items()
            }) from None
        exchange = MachineExchange.objects.create(machine=old, replacement=new, kind=ExchangeKind.EXCHANGE, happened_on=today,
                                                  reason=order.return_request.decision_reason)
        Machine.objects.filter(pk=old.pk).update(status=MachineStatus.EXCHANGED)
        _set(order.return_request, new_machine=new, exchange=exchange)
        order.completed_at = timezone.now()
        return {"new_machine_id": new.pk, "new_serial_number": new.serial_number, "exchange_id": exchange.pk}
    return _perform(actor=actor, order_id=order_id, action="complete_exchange", version=version, note=note, apply=apply)


def order_record_refund(*, actor, order_id: int, version: int, refund_amount, note: str = "") -> ServiceOrder:
    def apply(order):
        errors = {}
        amount = _decimal(errors, "refund_amount", refund_amount, minimum=Decimal("0.01"))
        _raise_if(errors)
        exchange = MachineExchange.objects.create(machine_id=order.machine_id, kind=ExchangeKind.RETURN,
                                                  happened_on=_shanghai_today(), refund_amount=amount,
                                                  reason=order.return_request.decision_reason)
        Machine.objects.filter(pk=order.machine_id).update(status=MachineStatus.RETURNED)
        _set(order.return_request, refund_amount=amount, exchange=exchange)
        order.completed_at = timezone.now()
        return {"refund_amount": str(amount), "exchange_id": exchange.pk}
    return _perform(actor=actor, order_id=order_id, action="record_refund", version=version, note=note, apply=apply)


# --- complaint ------------------------------------------------------------------------------

def order_investigate(*, actor, order_id: int, version: int, note: str = "") -> ServiceOrder:
    def apply(order):
        if order.complaint.supervisor_id is None:
            _set(order.complaint, supervisor=actor)
        return {"supervisor_id": order.complaint.supervisor_id}
    return _perform(actor=actor, order_id=order_id, action="investigate", version=version, note=note, apply=apply)


def order_resolve(*, actor, order_id: int, version: int, resolution: str, findings: str = "", note: str = "") -> ServiceOrder:
    def apply(order):
        text = _required("resolution", resolution)
        _set(order.complaint, resolution=text, findings=_text(findings), customer_accepted=None)
        return {"resolution": text}
    return _perform(actor=actor, order_id=order_id, action="resolve", version=version, note=note, apply=apply)


def order_customer_accept(*, actor, order_id: int, version: int, note: str = "") -> ServiceOrder:
    def apply(order):
        _set(order.complaint, customer_accepted=True)
        order.completed_at = timezone.now()
        return {"customer_accepted": True}
    return _perform(actor=actor, order_id=order_id, action="customer_accept", version=version, note=note, apply=apply)


def order_customer_reject(*, actor, order_id: int, version: int, reason: str, note: str = "") -> ServiceOrder:
    def apply(order):
        why = _required("reason", reason)
        _set(order.complaint, customer_accepted=False)
        return {"customer_accepted": False, "reason": why}
    return _perform(actor=actor, order_id=order_id, action="customer_reject", version=version, note=note, apply=apply)


# --- feedback and the end -------------------------------------------------------------------

LOW_RATING = 2


def _record_rating(order: ServiceOrder, *, recorded_by, score: int, comment: str) -> dict:
    """The rating row, and at once a complaint for 2 or lower, both in the name of ``recorded_by``."""
    if not isinstance(score, int) or not 1 <= score <= 5:
        raise ValidationFailed(_("Nothing was changed."), fields={"score": _("Give a score from 1 to 5.")})
    Rating.objects.create(order=order, score=score, comment=_text(comment), recorded_by=recorded_by, recorded_at=timezone.now())
    data = {"score": score}
    if score <= LOW_RATING and order.order_type != OrderType.COMPLAINT:
        complaint = _intake(recorded_by, OrderInput(
            order_type=OrderType.COMPLAINT, customer_id=order.customer_id, contact_phone=order.contact_phone,
            contact_name=order.contact_name, channel=Channel.PHONE,
            symptom=_text(comment) or _("Rated %(score)s of 5.") % {"score": score},
            about_order_id=order.pk, complaint_category=ComplaintCategory.LOW_RATING,
            complaint_severity=ComplaintSeverity.HIGH if score == 1 else ComplaintSeverity.MEDIUM,
        ))
        data["complaint_id"] = complaint.pk
        data["complaint_number"] = complaint.number
    return data


def order_rate(*, actor, order_id: int, version: int, score: int, comment: str = "", note: str = "") -> ServiceOrder:
    """服务反馈: the rating closes the order; 2 or lower opens a complaint at once."""
    def apply(order):
        return _record_rating(order, recorded_by=actor, score=score, comment=comment)
    return _perform(actor=actor, order_id=order_id, action="rate", version=version, note=note, apply=apply)


def order_rate_by_customer(*, token: str, version: int, score: int, comment: str = "") -> ServiceOrder:
    """The customer rates on the tracking page (no account): the token is the credential. The event
    has no actor; the rating row and a low rating's complaint are recorded in the name of the
    order's first-contact owner (首问负责人), who answers for the order to the end."""
    with transaction.atomic():
        order = ServiceOrder.objects.select_for_update().filter(tracking_token=token).first() if token else None
        if order is None:
            raise NotFound(_("Service order not found."))
        if order.version != version:
            raise Conflict(_("The order was changed by someone else; reload it and decide again."), code="stale_version",
                           current=policies.order_brief(order))
        if order.status != OrderStatus.COMPLETED:
            raise Conflict(_("This order cannot be rated now."), code="invalid_transition", current=policies.order_brief(order))
        data = _record_rating(order, recorded_by=order.owner, score=score, comment=comment)
        order.status = OrderStatus.CLOSED
        order.closed_at = timezone.now()
        order.version = version + 1
        _append_event(order, actor=None, action="rate", from_status=OrderStatus.COMPLETED, to_status=order.status,
                      data={**data, "by": "customer"})
        _save_if_version(order, version)
        _changed(order)
        return order


def order_close(*, actor, order_id: int, version: int, reason: str, note: str = "") -> ServiceOrder:
    def apply(order):
        why = _required("reason", reason, 300)
        return {"reason": why}
    return _perform(actor=actor, order_id=order_id, action="close", version=version, note=note, apply=apply)


def order_cancel(*, actor, order_id: int, version: int, reason: str, note: str = "") -> ServiceOrder:
    """Orders are cancelled with a reason, never deleted: the number stays taken."""
    def apply(order):
        order.cancel_reason = _required("reason", reason, 300)
        return {"reason": order.cancel_reason}
    return _perform(actor=actor, order_id=order_id, action="cancel", version=version, note=note, apply=apply)


def order_follow_up(*, actor, order_id: int, version: int, summary: str, channel: str = Channel.PHONE,
                    note: str = "") -> ServiceOrder:
    """The customer called again about this order (避免重复单据): recorded on it, not as a new order."""
    def apply(order):
        errors = {}
        text = _required_text(errors, "summary", summary)
        if channel not in Channel.values:
            errors["channel"] = _("Unknown channel.")
        _raise_if(errors)
        return {"summary": text, "channel": channel}
    return _perform(actor=actor, order_id=order_id, action="follow_up", version=version, note=note, apply=apply)


def order_pause_clock(*, actor, order_id: int, version: int, reason: str, note: str = "") -> ServiceOrder:
    """Stop the SLA clocks while the order waits on something outside the holder's hands."""
    def apply(order):
        if reason not in workflow.PAUSE_REASONS:
            raise ValidationFailed(_("Nothing was changed."), fields={"reason": _("Pick waiting_customer, waiting_parts or weather.")})
        return {"reason": reason}
    return _perform(actor=actor, order_id=order_id, action="pause_clock", version=version, note=note, apply=apply)


def order_resume_clock(*, actor, order_id: int, version: int, note: str = "") -> ServiceOrder:
    return _perform(actor=actor, order_id=order_id, action="resume_clock", version=version, note=note)


# --- attachments ----------------------------------------------------------------------------

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
# Recognised by their first bytes, not by the name or the browser's claim.
_SIGNATURES: tuple[tuple[str, str, Callable[[bytes], bool]], ...] = (
    ("image/jpeg", ".jpg", lambda head: head.startswith(b"\xff\xd8\xff")),
    ("image/png", ".png", lambda head: head.startswith(b"\x89PNG\r\n\x1a\n")),
    ("image/webp", ".webp", lambda head: head[:4] == b"RIFF" and head[8:12] == b"WEBP"),
    ("application/pdf", ".pdf", lambda head: head.startswith(b"%PDF-")),
)


def sniff_content_type(head: bytes) -> tuple[str, str] | None:
    for content_type, extension, matches in _SIGNATURES:
        if matches(head):
            return content_type, extension
    return None


def attachment_add(*, actor, order_id: int, upload, kind: str = AttachmentKind.PHOTO) -> Attachment:
    """Store a photo, a PDF or a signature image. Adds an event but keeps the version: an upload
    changes none of the order's fields, and a technician's next action should not fail over it."""
    errors = {}
    if kind not in AttachmentKind.values:
        errors["kind"] = _("Use photo, document or signature.")
    size = getattr(upload, "size", 0) or 0
    if size > MAX_ATTACHMENT_BYTES:
        errors["file"] = _("The file is larger than 10 MB.")
    elif size == 0:
        errors["file"] = _("The file is empty.")
    sniffed = None
    if "file" not in errors:
        upload.seek(0)
        sniffed = sniff_content_type(upload.read(16))
        upload.seek(0)
        if sniffed is None:
            errors["file"] = _("Only JPEG, PNG or WebP images and PDF documents are accepted.")
        elif kind in (AttachmentKind.PHOTO, AttachmentKind.SIGNATURE) and not sniffed[0].startswith("image/"):
            errors["file"] = _("A photo or signature must be an image.")
    with transaction.atomic():
        order = _lock(actor, order_id)
        if not policies.may_attach(actor, order):
            raise Forbidden(_("You may not add files to this order."))
        _raise_if(errors, _("The file was not stored."))
        content_type, extension = sniffed
        attachment = Attachment(order=order, kind=kind, token=uuid.uuid4().hex, extension=extension,
                                original_name=_text(getattr(upload, "name", ""), 200).replace("/", "_").replace("\\", "_"),
                                content_type=content_type, size=size, uploaded_by=actor)
        attachment.file.save("upload", upload, save=False)
        attachment.save()
        _append_event(order, actor=actor, action="attach", from_status=order.status, to_status=order.status,
                      data={"attachment_id": attachment.pk, "kind": kind, "content_type": content_type, "size": size})
        ServiceOrder.objects.filter(pk=order.pk).update(event_seq=order.event_seq)
        _changed(order)
    return attachment
