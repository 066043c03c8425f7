"""The transition table: the single source of truth for what may happen to a service order.

Each row says which action moves an order from which statuses to which status, which roles may
take it, which of those people (``who``: the owner, the assigned technician, a member of the
assigned organization...) and which guard on the order's own state must hold. The services
enforce it under a row lock; the API and the UI ask it which actions to offer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from aftersales.accounts.models import RoleCode as R
from aftersales.accounts.policies import sees_whole_network
from aftersales.service.models import (
    OPEN_STATUSES,
    OrderStatus as S,
    OrderType,
    QuoteStatus,
    ReturnKind,
    ServiceMode,
)

# The target of an escalation answer: back to the status the order had when it was raised.
RESUME = "<resume>"


# --- who: which holders of the roles may act on this order -------------------------------------

def anyone(user, order) -> bool:
    return True


def owner_or_supervisor(user, order) -> bool:
    return order.owner_id == user.pk or user.has_role(R.SUPERVISOR)


def owner_or_centre(user, order) -> bool:
    """The return visit is made by the owner or the maker's service centre, not by a partner."""
    return order.owner_id == user.pk or sees_whole_network(user)


def order_hotline_technician(user, order) -> bool:
    """The hotline technician it was forwarded to; any hotline technician while none is named."""
    return order.hotline_technician_id in (None, user.pk)


def assigned_org_member(user, order) -> bool:
    return bool(order.assigned_org_id and user.organization_id == order.assigned_org_id)


def assigned_technician(user, order) -> bool:
    return bool(order.assigned_technician_id and order.assigned_technician_id == user.pk)


def assigned_technician_or_centre(user, order) -> bool:
    return assigned_technician(user, order) or sees_whole_network(user)


def escalation_raiser(user, order) -> bool:
    """Whoever works the order now: its hotline technician (while diagnosing) or its field technician."""
    if order.status == S.DIAGNOSING:
        return user.has_role(R.HOTLINE_TECHNICIAN) and order_hotline_technician(user, order)
    return assigned_technician(user, order)


def complaint_supervisor(user, order) -> bool:
    complaint = getattr(order, "complaint", None)
    supervisor_id = complaint.supervisor_id if complaint is not None else None
    return supervisor_id in (None, user.pk)


# --- guards: conditions on the order's own state; each returns why not, or None ------------------

PAUSE_REASONS = ("waiting_customer", "waiting_parts", "weather")


def _clock_paused(order) -> bool:
    last = next((e for e in reversed(order.timeline()) if e.action in ("pause_clock", "resume_clock")), None)
    return bool(last and last.action == "pause_clock")


def clock_keeper(user, order) -> bool:
    """Whoever works the order now (its hotline or field technician), or a supervisor or the
    centre's repair coordinator."""
    if user.has_role(R.SUPERVISOR) or assigned_technician(user, order):
        return True
    if user.has_role(R.HOTLINE_TECHNICIAN) and order.hotline_technician_id == user.pk:
        return True
    return user.has_role(R.REPAIR_COORDINATOR) and sees_whole_network(user)


def clock_not_paused(order) -> str | None:
    return str(_("The SLA clock is already paused.")) if _clock_paused(order) else None


def clock_paused(order) -> str | None:
    return None if _clock_paused(order) else str(_("The SLA clock is not paused."))


def _type_is(*types: str) -> Callable[[object], str | None]:
    def guard(order) -> str | None:
        if order.order_type not in types:
            return str(_("Not possible on an order of this type."))
        return None

    guard.__name__ = "type_is_" + "_or_".join(types)
    return guard


is_repair = _type_is(OrderType.REPAIR)
is_consultation = _type_is(OrderType.CONSULTATION)
is_complaint = _type_is(OrderType.COMPLAINT)
is_return_exchange = _type_is(OrderType.RETURN_EXCHANGE)
is_repair_or_consultation = _type_is(OrderType.REPAIR, OrderType.CONSULTATION)


def _quote_accepted_if_paid(order) -> str | None:
    if order.service_mode == ServiceMode.PAID and not any(q.status == QuoteStatus.ACCEPTED for q in order.quote_list()):
        return str(_("Paid service: the customer must accept a quote before work starts."))
    return None


def can_check_in(order) -> str | None:
    if order.order_type != OrderType.REPAIR:
        return str(_("Not possible on an order of this type."))
    if order.service_mode not in (ServiceMode.ON_SITE, ServiceMode.PAID):
        return str(_("Check-in is for on-site service; receive the machine instead."))
    return _quote_accepted_if_paid(order)


def can_receive(order) -> str | None:
    if order.order_type != OrderType.REPAIR:
        return str(_("Not possible on an order of this type."))
    if order.service_mode not in (ServiceMode.CARRY_IN, ServiceMode.MAIL_IN, ServiceMode.PAID):
        return str(_("Receiving a machine is for carry-in and mail-in service."))
    return _quote_accepted_if_paid(order)


def has_proposed_quote(order) -> str | None:
    if order.order_type != OrderType.REPAIR:
        return str(_("Not possible on an order of this type."))
    if not any(q.status == QuoteStatus.PROPOSED for q in order.quote_list()):
        return str(_("There is no quote waiting for the customer's answer."))
    return None


def has_service_record(order) -> str | None:
    if order.order_type != OrderType.REPAIR:
        return str(_("Not possible on an order of this type."))
    if not type(order).objects.filter(pk=order.pk, service_record__isnull=False).exists():
        return str(_("Record the service record (服务记录单) before checking out."))
    return None


def _return_kind_is(kind: str) -> Callable[[object], str | None]:
    def guard(order) -> str | None:
        request = getattr(order, "return_request", None) if order.order_type == OrderType.RETURN_EXCHANGE else None
        if request is None or request.kind != kind:
            return str(_("Not possible on this request."))
        return None

    guard.__name__ = f"return_kind_is_{kind}"
    return guard


@dataclass(frozen=True)
class Transition:
    action: str
    label: str
    sources: frozenset[str]
    target: str | None  # None: the status stays; RESUME: back to where an escalation left off
    roles: frozenset[str]
    who: Callable[[object, object], bool] = anyone
    guard: Callable[[object], str | None] | None = None

    def target_for(self, order, resume_status: str | None = None) -> str:
        if self.target is None:
            return order.status
        if self.target == RESUME:
            return resume_status or order.status
        return self.target


def _t(action, label, sources, target, roles, who=anyone, guard=None) -> Transition:
    return Transition(action, label, frozenset(sources), target, frozenset(roles), who, guard)


OPEN = OPEN_STATUSES
WORKING = (S.TECH_ACCEPTED, S.SCHEDULED)  # accepted by the technician, work not started
HOTLINE = (R.CALL_AGENT, R.INFORMATION_COORDINATOR, R.HOTLINE_TECHNICIAN, R.SUPERVISOR)
PROVIDER = (R.FIELD_TECHNICIAN, R.REPAIR_COORDINATOR, R.SUPERVISOR)
ALL_ROLES = tuple(R.values)
CLOCK_KEEPERS = (R.HOTLINE_TECHNICIAN, R.FIELD_TECHNICIAN, R.REPAIR_COORDINATOR, R.SUPERVISOR)
# Not while dispatched (the organization's answer is what is awaited) nor once the work is done.
CLOCK_STATUSES = OPEN - {S.DISPATCHED, S.COMPLETED}

TRANSITIONS: tuple[Transition, ...] = (
    # Hotline (热线接听): consultations are answered; repairs go on to a hotline technician.
    _t("answer", _("Answer the consultation"), (S.NEW, S.FORWARDED, S.DIAGNOSING), S.CLOSED,
       (R.CALL_AGENT, R.HOTLINE_TECHNICIAN), guard=is_consultation),
    _t("forward", _("Forward to a hotline technician"), (S.NEW,), S.FORWARDED,
       (R.INFORMATION_COORDINATOR, R.CALL_AGENT), guard=is_repair_or_consultation),
    _t("callback", _("Record the call-back"), (S.FORWARDED,), S.DIAGNOSING,
       (R.HOTLINE_TECHNICIAN,), order_hotline_technician, is_repair_or_consultation),
    _t("diagnose", _("Record diagnosis steps"), (S.DIAGNOSING,), None,
       (R.HOTLINE_TECHNICIAN,), order_hotline_technician, is_repair),
    _t("solve_by_phone", _("Solved by phone"), (S.DIAGNOSING,), S.CLOSED,
       (R.HOTLINE_TECHNICIAN,), order_hotline_technician, is_repair),
    _t("confirm_mode", _("Confirm the service mode for dispatch"), (S.DIAGNOSING,), S.AWAITING_DISPATCH,
       (R.HOTLINE_TECHNICIAN,), order_hotline_technician, is_repair),
    # Dispatch (派工) and the organization's answer.
    _t("dispatch", _("Dispatch to an organization"), (S.AWAITING_DISPATCH,), S.DISPATCHED,
       (R.REPAIR_COORDINATOR,), guard=is_repair),
    _t("accept", _("Accept the order"), (S.DISPATCHED,), S.ACCEPTED, PROVIDER, assigned_org_member, is_repair),
    _t("reject", _("Reject the order"), (S.DISPATCHED,), S.AWAITING_DISPATCH, PROVIDER, assigned_org_member, is_repair),
    _t("assign", _("Assign a technician"), (S.ACCEPTED, S.ASSIGNED), S.ASSIGNED, PROVIDER, assigned_org_member, is_repair),
    # Service by the technician (上门 / 送修 / 寄修).
    _t("tech_accept", _("Accept as technician"), (S.ASSIGNED,), S.TECH_ACCEPTED,
       (R.FIELD_TECHNICIAN,), assigned_technician, is_repair),
    _t("tech_decline", _("Decline as technician"), (S.ASSIGNED,), S.ACCEPTED,
       (R.FIELD_TECHNICIAN,), assigned_technician, is_repair),
    _t("schedule", _("Make an appointment"), WORKING, S.SCHEDULED, (R.FIELD_TECHNICIAN,), assigned_technician, is_repair),
    _t("quote", _("Quote paid service"), WORKING, None,
       (R.FIELD_TECHNICIAN, R.HOTLINE_TECHNICIAN, R.REPAIR_COORDINATOR), assigned_technician_or_centre, is_repair),
    _t("quote_accept", _("Customer accepts the quote"), WORKING, None,
       (R.FIELD_TECHNICIAN, R.HOTLINE_TECHNICIAN, R.CALL_AGENT), assigned_technician_or_centre, has_proposed_quote),
    _t("quote_decline", _("Customer declines the quote"), WORKING, None,
       (R.FIELD_TECHNICIAN, R.HOTLINE_TECHNICIAN, R.CALL_AGENT), assigned_technician_or_centre, has_proposed_quote),
    # Also without an appointment (the technician was nearby): the event records it as unscheduled.
    _t("check_in", _("Check in on site"), WORKING, S.IN_SERVICE, (R.FIELD_TECHNICIAN,), assigned_technician, can_check_in),
    _t("receive", _("Receive the machine"), WORKING, S.IN_SERVICE, (R.FIELD_TECHNICIAN,), assigned_technician, can_receive),
    _t("record_service", _("Write the service record"), (S.IN_SERVICE,), None,
       (R.FIELD_TECHNICIAN,), assigned_technician, is_repair),
    _t("check_out", _("Check out"), (S.IN_SERVICE,), S.AWAITING_CONFIRMATION,
       (R.FIELD_TECHNICIAN,), assigned_technician, has_service_record),
    _t("resend_code", _("Send a new confirmation code"), (S.AWAITING_CONFIRMATION,), None,
       (R.FIELD_TECHNICIAN,), assigned_technician, is_repair),
    _t("confirm", _("Customer confirms the service"), (S.AWAITING_CONFIRMATION,), S.COMPLETED,
       (R.FIELD_TECHNICIAN,), assigned_technician, is_repair),
    # Escalation (疑难升级) and the engineer's answer.
    _t("escalate", _("Escalate to a technical engineer"), (S.DIAGNOSING, S.TECH_ACCEPTED, S.SCHEDULED, S.IN_SERVICE),
       S.ESCALATED, (R.HOTLINE_TECHNICIAN, R.FIELD_TECHNICIAN), escalation_raiser, is_repair),
    _t("answer_escalation", _("Answer the escalation"), (S.ESCALATED,), RESUME, (R.TECHNICAL_ENGINEER,), guard=is_repair),
    # Return / exchange (退换机).
    _t("approve_return", _("Approve the return or exchange"), (S.AWAITING_APPROVAL,), S.IN_SERVICE,
       (R.TECHNICAL_ENGINEER,), guard=is_return_exchange),
    _t("reject_return", _("Reject the return or exchange"), (S.AWAITING_APPROVAL,), S.CLOSED,
       (R.TECHNICAL_ENGINEER,), guard=is_return_exchange),
    _t("complete_exchange", _("Record the exchanged machine"), (S.IN_SERVICE,), S.COMPLETED,
       (R.TECHNICAL_ENGINEER, R.REPAIR_COORDINATOR), guard=_return_kind_is(ReturnKind.EXCHANGE)),
    _t("record_refund", _("Record the refund"), (S.IN_SERVICE,), S.COMPLETED,
       (R.TECHNICAL_ENGINEER, R.REPAIR_COORDINATOR), guard=_return_kind_is(ReturnKind.RETURN)),
    # Complaint (投诉).
    _t("investigate", _("Start the investigation"), (S.NEW,), S.INVESTIGATING, (R.SUPERVISOR,), complaint_supervisor, is_complaint),
    _t("resolve", _("Record the resolution"), (S.INVESTIGATING,), S.AWAITING_CONFIRMATION,
       (R.SUPERVISOR,), complaint_supervisor, is_complaint),
    _t("customer_accept", _("Customer accepts the resolution"), (S.AWAITING_CONFIRMATION,), S.COMPLETED,
       (R.SUPERVISOR, R.CALL_AGENT), guard=is_complaint),
    _t("customer_reject", _("Customer rejects the resolution"), (S.AWAITING_CONFIRMATION,), S.INVESTIGATING,
       (R.SUPERVISOR, R.CALL_AGENT), guard=is_complaint),
    # Feedback (服务反馈) and the end of every order.
    _t("rate", _("Record the customer's rating"), (S.COMPLETED,), S.CLOSED,
       (R.CALL_AGENT, R.INFORMATION_COORDINATOR, R.SUPERVISOR), owner_or_centre),
    _t("close", _("Close without a rating"), (S.COMPLETED,), S.CLOSED,
       (R.CALL_AGENT, R.SUPERVISOR), owner_or_supervisor),
    _t("cancel", _("Cancel the order"), OPEN - {S.COMPLETED}, S.CANCELLED, ALL_ROLES, owner_or_supervisor),
    _t("follow_up", _("Record a follow-up call"), OPEN, None, HOTLINE),
    # SLA clock pauses (waiting for the customer, parts or the weather); the sla app reads the events.
    _t("pause_clock", _("Pause the SLA clock"), CLOCK_STATUSES, None, CLOCK_KEEPERS, clock_keeper, clock_not_paused),
    _t("resume_clock", _("Resume the SLA clock"), CLOCK_STATUSES, None, CLOCK_KEEPERS, clock_keeper, clock_paused),
)

TRANSITIONS_BY_ACTION: dict[str, Transition] = {t.action: t for t in TRANSITIONS}

# Not a transition: the event an action appends beside its own when it moved the promised time.
PROMISE_CHANGE = "promise_change"
assert len(TRANSITIONS_BY_ACTION) == len(TRANSITIONS), "one row per action"


def transition(action: str) -> Transition | None:
    return TRANSITIONS_BY_ACTION.get(action)


def may_take(user, order, t: Transition) -> bool:
    """Role and person, not status: a 'no' here is a 403 on an order the user can see."""
    if not (user.is_authenticated and user.is_active):
        return False
    return bool(user.role_codes() & t.roles) and t.who(user, order)


def blocked_by(order, t: Transition) -> str | None:
    """Why the action is not possible now (status, then guard), or None."""
    if order.status not in t.sources:
        return str(_("Not possible while the order is %(status)s.") % {"status": order.get_status_display()})
    return t.guard(order) if t.guard else None
