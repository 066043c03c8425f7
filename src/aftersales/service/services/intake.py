"""受理: creating a service order (任务单) from a call, with the warranty proposal, the duplicate
guard (避免重复单据), the order number and idempotent retries.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.accounts.models import Organization, RoleCode, User
from aftersales.core.errors import Conflict, Forbidden, ValidationFailed
from aftersales.core.phones import normalize_phone
from aftersales.notify.services import outbox_enqueue
from aftersales.registry import selectors as registry_selectors
from aftersales.registry import services as registry
from aftersales.registry.models import Customer, CustomerClass, Machine
from aftersales.service import policies
from aftersales.service import selectors as order_selectors
from aftersales.service.models import (
    OPEN_STATUSES,
    Channel,
    Complaint,
    ComplaintCategory,
    ComplaintSeverity,
    IdempotencyKey,
    OrderNumberSequence,
    OrderStatus,
    OrderType,
    ReturnKind,
    ReturnRequest,
    ServiceLevel,
    ServiceMode,
    ServiceOrder,
    Urgency,
)
from aftersales.service.services.common import (
    DUPLICATE_WINDOW,
    _append_event,
    _changed,
    _org_of,
    _raise_if,
    _shanghai_today,
    _text,
)
from aftersales.warranty.services import component_errors


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
    response: dict = field(default_factory=dict)  # the answer in JSON form, as kept for a retry
    replayed: bool = False
    rendered: Any = None  # what ``render`` made of the new order (not on a replay)


def propose_service_level(customer: Customer, urgency: str = Urgency.NORMAL) -> str:
    """大客户 first; a machine stopped in the field is an emergency whatever the class."""
    if urgency == Urgency.CRITICAL:
        return ServiceLevel.EMERGENCY
    if customer.customer_class == CustomerClass.KEY_ACCOUNT:
        return ServiceLevel.PRIORITY
    return ServiceLevel.STANDARD


def warranty_evaluate(machine: Machine, *, fault=None) -> dict:
    """The warranty engine's answer for a stored machine today (Asia/Shanghai)."""
    from aftersales.warranty.services import evaluate_machine

    return evaluate_machine(machine=machine, on=_shanghai_today(), fault=fault)


def order_proposal(*, machine: Machine | None, customer: Customer, order_type: str, urgency: str = Urgency.NORMAL,
                   evaluation: dict | None = None, fault: dict | None = None) -> dict:
    """What the system proposes at intake: level from the customer, mode from the warranty engine
    (``evaluation``: the engine's answer for this machine, when the caller has it already)."""
    level = propose_service_level(customer, urgency)
    mode = ""
    if order_type == OrderType.CONSULTATION:
        mode, evaluation = ServiceMode.PHONE, None
    elif machine is not None and order_type == OrderType.REPAIR:
        evaluation = evaluation or warranty_evaluate(machine, fault=fault)
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


def find_duplicate(*, machine: Machine | None, contact_phone: str, symptom: str, actor=None) -> ServiceOrder | None:
    """An open order for the same machine, or a recent order from the same phone with a similar symptom.
    Only among the orders ``actor`` may see: the answer names the order it found, and another
    organization's order must not be named (nor its existence confirmed)."""
    scope = ServiceOrder.objects.all() if actor is None else order_selectors.order_queryset_plain(actor)
    live = scope.filter(order_type__in=[OrderType.REPAIR, OrderType.RETURN_EXCHANGE]).exclude(
        status=OrderStatus.CANCELLED
    )
    # Asked at every repair intake and usually answered "none": both questions in one statement
    # that reads ids and symptoms only, the whole row only for the order found. The machine's open
    # order wins; else the first similar one among the phone's 20 latest of the window.
    since = timezone.now() - DUPLICATE_WINDOW
    by_machine = Q(machine_id=machine.pk, status__in=OPEN_STATUSES) if machine is not None else None
    rows = _duplicate_rows(actor, contact_phone, since, machine.pk if machine is not None else None)
    found = next((pk for pk, _text, machine_id, status in rows
                  if machine is not None and machine_id == machine.pk and status in OPEN_STATUSES), None)
    if found is None and by_machine is not None and len(rows) == _DUPLICATE_ROWS:
        # So many calls from this phone this week that the machine's open order may lie beyond them.
        found = live.filter(by_machine).order_by("-created_at").values_list("pk", flat=True).first()
    if found is None:
        # No row is the machine's open order, so every row came by the phone.
        found = next((pk for pk, text, *_ in rows[:20] if _similar(text, symptom)), None)
    return None if found is None else ServiceOrder.objects.get(pk=found)


_DUPLICATE_ROWS = 100  # more than the phone's 20 latest, so the machine's open order is usually among them


def _duplicate_rows(actor, contact_phone: str, since: datetime, machine_id: int | None) -> list[tuple]:
    """(id, symptom, machine id, status) of the live repair and return orders ``actor`` may see that
    came from the phone since ``since`` or are the machine's open ones, newest first, at most
    _DUPLICATE_ROWS. Hand-written (issue 14): every repair intake asks it, and the ORM's build of
    this OR of two conditions cost several times its run; the visibility is the one rule
    (policies.order_visibility_sql). tests/service/test_duplicate_rows.py pins it against the ORM's
    read on both databases."""
    qn = connection.ops.quote_name
    created = ServiceOrder._meta.get_field("created_at")
    params: list = [OrderType.REPAIR.value, OrderType.RETURN_EXCHANGE.value, OrderStatus.CANCELLED.value, contact_phone,
                    created.get_db_prep_value(since, connection)]
    either = f"({qn('contact_phone')} = %s AND {qn('created_at')} >= %s)"
    if machine_id is not None:
        either = f"({either} OR ({qn('machine_id')} = %s AND {qn('status')} IN ({', '.join(['%s'] * len(OPEN_STATUSES))})))"
        params += [machine_id, *sorted(OPEN_STATUSES)]
    visible, more = ("", []) if actor is None else policies.order_visibility_sql(actor, "o", qn)
    sql = (f"SELECT {qn('id')}, {qn('symptom')}, {qn('machine_id')}, {qn('status')} "
           f"FROM {qn(ServiceOrder._meta.db_table)} o WHERE {qn('order_type')} IN (%s, %s) AND {qn('status')} <> %s "
           f"AND {either}{' AND ' + visible if visible else ''} ORDER BY {qn('created_at')} DESC LIMIT {_DUPLICATE_ROWS}")
    with connection.cursor() as cursor:
        cursor.execute(sql, params + more)
        return [tuple(row) for row in cursor.fetchall()]


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
    known.customer, known.machine = registry_selectors.customer_and_machine(
        actor, customer_id=data.customer_id, machine_id=data.machine_id)
    if known.machine is not None and data.order_type == OrderType.REPAIR:
        known.warranty = warranty_evaluate(known.machine, fault=_repair_fault(data))
    return known


def _repair_fault(data: OrderInput) -> dict:
    # Every repair is asked with the machine's whole record: the fault reported now (its component
    # when the agent knows it, whether it is serious) is what the engine compares with the earlier
    # repairs to say whether a repair, a main-part replacement or an exchange is due. The repair
    # is taken in today, which starts its 30-working-day deadline.
    return {"component": data.fault_component or None, "serious": bool(data.fault_serious),
            "repair_intake_date": _shanghai_today()}


def _lock_row(model, pk: int) -> bool:
    """Hold the row until the order commits, so two agents taking the same caller at once cannot
    both pass the duplicate guard. SQLite's write transaction already shuts out every other writer."""
    if not connection.features.has_select_for_update:
        return True
    # Hand-written (issue 14): two of these run at every intake on PostgreSQL, and the ORM's build of
    # "SELECT id ... FOR UPDATE" cost more than the lock. tests/service/test_concurrency.py holds the
    # guard under concurrent creates; tests/service/test_duplicate_rows.py the answer.
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {qn(model._meta.pk.column)} FROM {qn(model._meta.db_table)} "
                       f"WHERE {qn(model._meta.pk.column)} = %s FOR UPDATE", [pk])
        return cursor.fetchone() is not None


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
    registered_by = actor.organization  # who recorded it, always (a partner also sees what it recorded)
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
    registered_by = actor.organization  # who recorded it, always (a partner also sees what it recorded)
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


def _validate_intake(actor, data: OrderInput, errors: dict, known: _ReadBeforeLock) -> None:
    for name, limit in INTAKE_TEXT_LIMITS.items():
        value = getattr(data, name) or ""
        if len(value) > limit:
            errors[name] = _("At most %(limit)s characters (this has %(n)s).") % {"limit": limit, "n": len(value)}
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
    if data.fault_component:
        model = known.machine.model if known.machine is not None else None
        errors.update(component_errors({"fault_component": data.fault_component},
                                       category=model.category if model else "other", model=model))
    if data.answer and data.order_type != OrderType.CONSULTATION:
        errors["answer"] = _("Only a consultation is answered at intake.")


def _intake(actor, data: OrderInput, known: _ReadBeforeLock | None = None) -> ServiceOrder:
    known = known or _read_before_lock(actor, data)  # a complaint opened by a rating reads here
    errors: dict[str, str] = {}
    org = _org_of(actor)
    _validate_intake(actor, data, errors, known)
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
        duplicate = find_duplicate(machine=machine, contact_phone=contact_phone, symptom=symptom, actor=actor)
        if duplicate is not None and not _text(data.duplicate_reason):
            # A closed order from the same phone is a duplicate too (same problem within the window),
            # but it is not "still being handled": say which of the two it is.
            if duplicate.status in OPEN_STATUSES:
                message = _("This looks like order %(number)s, which is still being handled. Add the call to it "
                            "as a follow-up, or give a reason to create a new order.") % {"number": duplicate.number}
            else:
                message = _("This looks like order %(number)s (%(status)s) of the last days. Give a reason to "
                            "create a new order for the same problem.") % {
                    "number": duplicate.number, "status": duplicate.get_status_display()}
            raise Conflict(message, code="duplicate_order", current=policies.order_brief(duplicate),
                           fields={"duplicate_reason": _("Required: a similar order exists.")})

    proposal = order_proposal(machine=machine, customer=customer, order_type=data.order_type, urgency=data.urgency,
                              evaluation=known.warranty if machine is known.machine else None,
                              fault=_repair_fault(data))
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
                                                      eligible=eligible, fault_component=data.fault_component,
                                                      fault_serious=bool(data.fault_serious))
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
    # A new order has no quotes or escalations, and its timeline is the events just appended.
    order.__dict__.update(_quote_list=[], _escalation_list=[], _timeline=list(order.__dict__.get("_new_events", ())))


def _return_fault(data: OrderInput) -> dict:
    # The recurring fault, so the engine can count earlier repairs of the same component; a return
    # is what the rules give when no machine of the same model can replace it.
    return {"customer_requests_exchange": True, "same_model_available": data.return_kind != ReturnKind.RETURN,
            "component": data.fault_component or None, "serious": bool(data.fault_serious)}


IDEMPOTENCY_KEY_MAX = 100  # the column's length
# Longest free texts at intake (a 9.9 MB symptom once held a worker 11 s in segmentation); longer
# is a 422 naming the field, never a silent cut. The API's schema says the same.
INTAKE_TEXT_LIMITS = {"symptom": 4000, "answer": 4000, "contact_name": 50, "crop": 40, "operation": 40,
                      "field_location": 200, "override_reason": 300, "duplicate_reason": 300}


def order_create(*, actor, data: OrderInput, idempotency_key: str = "", request_hash: str = "",
                 render: Callable[[ServiceOrder], Any] | None = None) -> CreateResult:
    """Record a new order (任务单). With an idempotency key, a retry returns the first result.
    ``render``: the answer for the new order, made inside the transaction; a retry gets it as kept
    (a dict as it is, a pydantic model in its JSON form)."""
    if not policies.may_create_order(actor):
        raise Forbidden(_("You may not record service orders."))
    key = (idempotency_key or "").strip()
    if len(key) > IDEMPOTENCY_KEY_MAX:
        # Never cut: two long keys sharing their first 100 characters would replay each other.
        raise ValidationFailed(_("The order was not saved."), fields={
            "Idempotency-Key": _("At most %(limit)s characters.") % {"limit": IDEMPOTENCY_KEY_MAX}})
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
            rendered = render(order) if render else None
            response = {}
            if stored is not None and rendered is not None:
                response = rendered if isinstance(rendered, dict) else rendered.model_dump(mode="json")
            if stored is not None:
                stored.order, stored.response = order, response
                stored.save(update_fields=["order", "response"])
    except IntegrityError:
        # A concurrent retry with the same key committed first; ours rolled back whole.
        replay = _replay(actor, key, request_hash) if key else None
        if replay is None:
            raise
        return replay
    return CreateResult(order=order, response=response, rendered=rendered)


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
