"""The SLA API: an order's clocks, "my overdue", "at risk" per organization, SLA policies (admin)."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from ninja import Field, Router, Schema, Status

from aftersales.api.errors import COMMON_ERRORS
from aftersales.sla import policies, policy_admin, selectors, services
from aftersales.sla.models import SlaClock, SlaPolicy
from aftersales.core.types import DbId, DbInt  # ids and counts the database can hold (else 422)

router = Router(tags=["SLA"])


class ClockOut(Schema):
    id: int
    order_id: int
    order_number: str
    target: str
    target_display: str
    policy_id: int | None
    state: str = Field(..., description="running, at its due time or later: breached (whether or not the sweep has "
                                       "noticed it); paused; met; cancelled.")
    outcome: str
    basis: str
    target_seconds: int
    counted_seconds: int
    started_at: datetime
    warn_at: datetime | None
    due_at: datetime | None
    stopped_at: datetime | None
    seconds_left: int | None = Field(None, description="Until due; negative when overdue; null when not running.")
    holder_org_id: int | None
    holder_user_id: int | None
    holder_pool: str = Field("", description="While no person has taken the hop: the role pool of holder_org that holds "
                                           "it (information_coordinator, hotline_technician, repair_coordinator, "
                                           "acceptance, supervisor).")
    pauses: list[dict]
    hops: list[dict] = Field(..., description="Who held the order while the clock counted: org, person, span, seconds.")
    warned_at: datetime | None
    breach_noticed_at: datetime | None
    escalation_level: int


def clock_out(c: SlaClock, now: datetime) -> dict:
    running = c.state == "running" and c.due_at is not None
    return {
        "id": c.pk, "order_id": c.order_id, "order_number": c.order.number, "target": c.target,
        "target_display": str(c.get_target_display()), "policy_id": c.policy_id, "state": c.state_at(now),
        "outcome": c.outcome,
        "basis": c.basis, "target_seconds": c.target_seconds, "counted_seconds": c.counted_seconds,
        "started_at": c.started_at, "warn_at": c.warn_at, "due_at": c.due_at, "stopped_at": c.stopped_at,
        "seconds_left": int((c.due_at - now).total_seconds()) if running else None,
        "holder_org_id": c.holder_org_id, "holder_user_id": c.holder_user_id,
        "holder_pool": c.holder_pool, "pauses": c.pauses, "hops": c.hops,
        "warned_at": c.warned_at, "breach_noticed_at": c.breach_noticed_at, "escalation_level": c.escalation_level,
    }


def _many(clocks) -> list[dict]:
    now = timezone.now()
    return [clock_out(c, now) for c in clocks]


@router.get("/orders/{order_id}/clocks", response={200: list[ClockOut], **COMMON_ERRORS}, summary="An order's SLA clocks")
def order_clocks(request, order_id: DbId):
    """Every time promise of the order, derived from its timeline: started, due, paused, met or breached,
    and who held the order while the time counted."""
    return _many(selectors.order_clocks(request.user, order_id))


@router.get("/sla/overdue", response={200: list[ClockOut], **COMMON_ERRORS}, summary="My overdue clocks")
def my_overdue(request, limit: DbInt = 100):
    """Running clocks past due held by you, or by a pool of your organization you belong to (the
    information coordinators' 15-minute handoff, the repair coordinators' dispatch...)."""
    return _many(selectors.my_overdue(request.user)[: max(1, min(limit, 500))])


@router.get("/sla/at-risk", response={200: list[ClockOut], **COMMON_ERRORS}, summary="Clocks at risk in an organization")
def at_risk(request, organization_id: DbId | None = None, limit: DbInt = 100):
    """Past 80 % of their time (overdue included), least time left first. Default: your organization."""
    return _many(selectors.at_risk(request.user, organization_id)[: max(1, min(limit, 500))])


class PolicyIn(Schema):
    name: str
    target: str = Field(..., description="handoff, callback, dispatch_accept, on_site, fixed, repair_ceiling, complaint_response")
    amount: int
    unit: str = Field("hours", description="minutes, hours or days")
    basis: str = Field("working", description="working or calendar; days in working time are statutory working days")
    order_types: list[str] = []
    service_levels: list[str] = []
    service_modes: list[str] = []
    provinces: list[str] = []
    season: str = Field("any", description="any, busy or normal")
    warranty_only: bool = False
    is_active: bool = True


class PolicyOut(PolicyIn):
    id: int


def policy_out(p: SlaPolicy) -> dict:
    return {"id": p.pk, **{name: getattr(p, name) for name in policy_admin.POLICY_FIELDS}}


@router.get("/sla/policies", response={200: list[PolicyOut], **COMMON_ERRORS}, summary="SLA policies")
def policy_list(request):
    return [policy_out(p) for p in selectors.policy_list()]


@router.post("/sla/policies", response={201: PolicyOut, **COMMON_ERRORS}, summary="Add an SLA policy (administrators)")
def policy_create(request, payload: PolicyIn):
    """Open orders' clocks are recomputed from their history by the worker after the change."""
    policies.check_manage_policies(request.user)
    return Status(201, policy_out(policy_admin.policy_create(data=payload.model_dump())))


@router.put("/sla/policies/{policy_id}", response={200: PolicyOut, **COMMON_ERRORS}, summary="Change an SLA policy (administrators)")
def policy_update(request, policy_id: DbId, payload: PolicyIn):
    policies.check_manage_policies(request.user)
    return policy_out(policy_admin.policy_update(policy_id=policy_id, data=payload.model_dump()))


@router.delete("/sla/policies/{policy_id}", response={204: None, **COMMON_ERRORS}, summary="Delete an SLA policy (administrators)")
def policy_delete(request, policy_id: DbId):
    policies.check_manage_policies(request.user)
    policy_admin.policy_delete(policy_id=policy_id)
    return Status(204, None)
