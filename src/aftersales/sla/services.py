"""Writes of the SLA app: keeping the stored clocks equal to what the engine derives from the
events, the sweeper that marks warnings, breaches and escalations once (the SLA policy
edits that recompute them: sla.policy_admin)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from aftersales.accounts.models import Organization, OrganizationKind, RoleCode, User
from aftersales.core import config
from aftersales.core.rawrows import children
from aftersales.notify.models import Channel, OutboxMessage
from aftersales.notify.services import outbox_enqueue_many, webhook_messages, webhook_subscribers
from aftersales.sla import engine
from aftersales.sla.models import (
    BusySeason,
    ClockState,
    EscalationLevel,
    EscalationScope,
    SlaClock,
    SlaPolicy,
    WorkingHours,
)

OPEN_CLOCK = Q(state=ClockState.RUNNING)
COORDINATOR_ROLES = (RoleCode.INFORMATION_COORDINATOR, RoleCode.REPAIR_COORDINATOR)

# Who answers for each role pool of the engine: the roles tried in turn, the first that has
# members in the holding organization wins (an agency without a repair coordinator answers a
# dispatch through its field technicians). A clock in an organization's queue without a pool is
# its coordinators'.
POOL_ROLES: dict[str, tuple[tuple[str, ...], ...]] = {
    engine.INFORMATION_COORDINATORS: ((RoleCode.INFORMATION_COORDINATOR,),),
    engine.HOTLINE_TECHNICIANS: ((RoleCode.HOTLINE_TECHNICIAN,),),
    engine.REPAIR_COORDINATORS: ((RoleCode.REPAIR_COORDINATOR,),),
    engine.ACCEPTANCE: ((RoleCode.REPAIR_COORDINATOR,), (RoleCode.FIELD_TECHNICIAN,)),
    engine.SUPERVISORS: ((RoleCode.SUPERVISOR,),),
    "": (COORDINATOR_ROLES,),
}
assert set(POOL_ROLES) == {*engine.POOLS, ""}, "every pool of the engine names its roles"


# --- deriving clocks ----------------------------------------------------------------------------

class Setup:
    """The rules and calendars, read once per batch of orders (``current_setup()`` for one order)."""

    def __init__(self) -> None:
        self.rules = [p.rule() for p in SlaPolicy.objects.filter(is_active=True)]
        self.seasons = tuple(s.season() for s in BusySeason.objects.filter(is_active=True))
        hours = {h.organization_id: h.hours() for h in WorkingHours.objects.all()}
        self.default_hours = hours.pop(None, engine.Hours())
        self.hours = hours
        self._calendars: dict[tuple, engine.WorkCalendar] = {}

    def calendar_for(self, order):
        def for_org(org_id: int | None) -> engine.WorkCalendar:
            # One calendar per (organization, province, crop), kept with the setup: each remembers
            # the working seconds of the days it has counted.
            key = (org_id, order.customer.province, order.crop)
            calendar = self._calendars.get(key)
            if calendar is None:
                calendar = self._calendars[key] = engine.WorkCalendar(
                    hours=self.hours.get(org_id, self.default_hours), seasons=self.seasons,
                    province=order.customer.province, crop=order.crop)
            return calendar
        return for_org


def current_setup() -> Setup:
    """This process's copy of the rules, reloaded when any of them changed (core.config)."""
    return config.cached("sla.setup", Setup)


def order_facts(order) -> engine.Facts:
    return engine.Facts(order_type=order.order_type, service_level=order.service_level, service_mode=order.service_mode,
                        province=order.customer.province, crop=order.crop, under_warranty=order.warranty_status == "covered")


def order_events(order, rows=None) -> list[engine.Ev]:
    return [engine.Ev(seq=e.seq, at=e.at, action=e.action, to_status=e.to_status, actor_id=e.actor_id,
                      actor_org_id=e.actor_org_id, data=e.data or {})
            for e in (order.events.order_by("seq") if rows is None else rows)]


def _inputs(order, timeline=None) -> tuple[list[engine.Ev], dict[int, int | None]]:
    """The order's events for the engine and the organizations of the people they name."""
    events = order_events(order, timeline)
    user_ids = {v for e in events for k, v in (e.data or {}).items() if k.endswith("technician_id") and v}
    people = dict(User.objects.filter(pk__in=user_ids).values_list("pk", "organization_id")) if user_ids else {}
    return events, people


def derive(order, setup: Setup | None = None, timeline=None, inputs=None) -> list[engine.Clock]:
    """The pure engine fed from the database: the order's whole timeline (``timeline`` when the
    caller holds all of it), never "now"."""
    setup = setup or current_setup()
    events, people = inputs or _inputs(order, timeline)
    return engine.derive_clocks(events, order_facts(order), setup.rules, setup.calendar_for(order), people)


def clocks_sync(order, *, setup: Setup | None = None, now: datetime | None = None, timeline=None,
                inputs=None) -> list[SlaClock]:
    """Store the derived clocks of one order. Keeps the sweeper's marks unless the recomputed
    times moved past them (a longer target after a policy change: the warning may come again).

    ``timeline``: the order's events from its first, when the caller holds them all (an order
    created in this transaction has no stored clocks yet, so none are read or deleted)."""
    now = now or timezone.now()
    derived = {c.target: c for c in derive(order, setup, timeline, inputs)}
    new_order = timeline is not None and timeline[0].seq == 1 and len(timeline) == order.event_seq
    # The stored clocks by a statement written once per process (core.rawrows.children, issue 14;
    # pinned in tests/service/test_order_children_read.py).
    existing = {} if new_order else {c.target: c for c in children(SlaClock, "order", order, ("due_at", "id"), connection)}
    if set(existing) - set(derived):
        SlaClock.objects.filter(order=order).exclude(target__in=list(derived)).delete()
    kept, new = [], []
    moved_rows: dict[tuple[str, ...], list[SlaClock]] = defaultdict(list)
    for target, c in derived.items():
        old = existing.get(target)
        if old is None:
            new.append(_clock_row(SlaClock(order=order, target=target), c, now))
            continue
        before = [getattr(old, f) for f in _DERIVED_FIELDS]
        row = _clock_row(old, c, now)
        # Most actions move one or two clocks; the rest are written only if they changed, and then
        # only the columns that changed.
        moved = tuple(f for f, was in zip(_DERIVED_FIELDS, before) if getattr(row, f) != was)
        if moved:
            moved_rows[(*moved, "computed_at")].append(row)
        kept.append(row)
    _write_moved(moved_rows)
    return kept + SlaClock.objects.bulk_create(new)


def _write_moved(moved_rows: dict[tuple[str, ...], list[SlaClock]]) -> None:
    """``UPDATE sla_slaclock SET <the moved columns> WHERE id = ?``, one prepared statement per set
    of columns (executemany). Hand-written because an action moves two to four clocks and the
    ORM's ``save(update_fields=...)`` built each UPDATE anew: about a third of the SLA hook's
    Python work per action. Values go through each field's own conversion for the database
    (datetimes, JSON); tests/sla pin the stored clocks on both databases. SlaClock has no signal
    receivers or audit log to skip."""
    if not moved_rows:
        return
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        for attnames, rows in moved_rows.items():
            fields = [_CLOCK_FIELDS[a] for a in attnames]
            sql = (f"UPDATE {qn(SlaClock._meta.db_table)} SET " + ", ".join(f"{qn(f.column)} = %s" for f in fields)
                   + f" WHERE {qn(SlaClock._meta.pk.column)} = %s")
            cursor.executemany(sql, [[f.get_db_prep_save(getattr(row, f.attname), connection) for f in fields] + [row.pk]
                                     for row in rows])


_DERIVED_FIELDS = ("policy_id", "target_seconds", "basis", "started_at", "due_at", "warn_at", "stopped_at", "state",
                   "outcome", "counted_seconds", "pauses", "hops", "holder_org_id", "holder_user_id", "holder_pool",
                   "breach_noticed_at", "escalation_level", "warned_at")
_CLOCK_FIELDS = {f.attname: f for f in SlaClock._meta.concrete_fields}


def _clock_row(row: SlaClock, c: engine.Clock, now: datetime) -> SlaClock:
    row.policy_id, row.target_seconds, row.basis = c.rule_id, int(c.target_seconds), c.basis
    row.started_at, row.due_at, row.warn_at, row.stopped_at = c.started_at, c.due_at, c.warn_at, c.stopped_at
    row.state, row.outcome, row.counted_seconds = c.state, c.outcome, int(c.counted_seconds)
    row.pauses, row.hops = c.pauses, c.hops
    row.holder_org_id, row.holder_user_id, row.holder_pool = c.holder_org_id, c.holder_user_id, c.holder_pool
    row.computed_at = now
    if row.breach_noticed_at and (row.due_at is None or row.due_at > now):
        row.breach_noticed_at, row.escalation_level = None, 0
    if row.warned_at and (row.warn_at is None or row.warn_at > now):
        row.warned_at = None
    return row


def on_order_changed(order, events) -> None:
    """The service app's hook: runs inside the action's transaction, so clocks and the inbox's
    handoff notices commit with it. A new order's events are its whole timeline; later actions
    read the stored one (once, for both)."""
    new_order = bool(events) and events[0].seq == 1
    inputs = _inputs(order, list(events) if new_order else list(order.timeline()))
    clocks_sync(order, timeline=list(events) if new_order else None, inputs=inputs)
    _tell_new_holders(order, events, inputs)


# Actions that hand a hop to someone, and what the inbox tells them (notify.templates codes). The
# holder after the event is the engine's (sla.engine._holder), so whoever holds the clock is told.
HANDOFF_NOTICES = {
    "create": "inbox_new_order", "forward": "inbox_forwarded", "confirm_mode": "inbox_awaiting_dispatch",
    "reject": "inbox_rejected", "dispatch": "inbox_dispatched", "assign": "staff_assigned",
    "tech_decline": "inbox_to_assign",
}


def _tell_new_holders(order, events, inputs) -> None:
    from aftersales.notify.inbox import inbox_add_many

    all_events, people = inputs
    new_seqs = {e.seq for e in events}
    if not new_seqs:
        return
    segs = engine.timeline(all_events, people)
    ordered = sorted(all_events, key=lambda e: e.seq)
    handed = []  # (event, holder segment, kind)
    for e, seg in zip(ordered, segs):
        if e.seq not in new_seqs:
            continue
        kind = HANDOFF_NOTICES.get(e.action)
        if e.action == "create":
            if order.status not in ("new",):  # a consultation answered on the line: nobody to hand it to
                continue
            kind = {"complaint": "inbox_new_complaint"}.get(order.order_type, kind if seg.pool else None)
        elif e.action == "forward" and seg.user_id is None:
            kind = "inbox_forwarded_pool"
        elif e.action == "answer_escalation":
            raiser = next((x.actor_id for x in reversed(ordered) if x.action == "escalate" and x.seq < e.seq), None)
            if raiser:
                handed.append((e, engine._Seg(e.at, None, "", "", None, raiser), "inbox_escalation_answered"))
            continue
        if kind:
            handed.append((e, seg, kind))
    if not handed:
        return
    pools = pool_members((seg.org_id, seg.pool) for _e, seg, _k in handed if seg.user_id is None)
    # The organization is named only where the text says which one (dispatched to / rejected by).
    named = {e.actor_org_id if e.action == "reject" else seg.org_id
             for e, seg, kind in handed if kind in ("inbox_dispatched", "inbox_rejected")} - {None}
    names = dict(Organization.objects.filter(pk__in=named).values_list("pk", "name")) if named else {}
    notes = []
    for e, seg, kind in handed:
        org_id = e.actor_org_id if e.action == "reject" else seg.org_id
        context = {"number": order.number, "order_path": f"/orders/{order.pk}/", "organization": names.get(org_id, "")}
        ids = [seg.user_id] if seg.user_id else [u.pk for u in pools.get((seg.org_id, seg.pool), [])]
        notes += [(uid, order.pk, kind, context, e.at) for uid in ids if uid != e.actor_id]
    inbox_add_many(notes)


def clocks_recompute(*, order_ids=None, open_only: bool = True) -> int:
    """Recompute stored clocks (after a policy or calendar change), one order at a time."""
    from aftersales.service.models import OPEN_STATUSES, ServiceOrder

    orders = ServiceOrder.objects.select_related("customer").order_by("pk")
    if order_ids is not None:
        orders = orders.filter(pk__in=list(order_ids))
    if open_only:
        orders = orders.filter(status__in=OPEN_STATUSES)
    setup, count = Setup(), 0
    for order in orders.iterator(chunk_size=500):
        with transaction.atomic():
            clocks_sync(order, setup=setup)
        count += 1
    return count


# --- the sweeper --------------------------------------------------------------------------------

def _local(dt: datetime | None) -> str:
    return timezone.localtime(dt).strftime("%m-%d %H:%M") if dt else ""


def _claimed(token: str):
    return (SlaClock.objects.filter(sweep_token=token)
            .select_related("order", "holder_org", "holder_user")
            .only("id", "target", "due_at", "holder_org_id", "holder_user_id", "holder_pool", "escalation_level",
                  "order__id", "order__number", "holder_org__name", "holder_user__username",
                  "holder_user__display_name", "holder_user__first_name", "holder_user__last_name",
                  "holder_user__phone", "holder_user__email"))


def _reach(user, template: str, context: dict, order_id: int) -> OutboxMessage | None:
    """A staff member by SMS, else by email; None if they left neither."""
    if user.phone:
        return OutboxMessage(channel=Channel.SMS, recipient=user.phone, template=template, context=context, order_id=order_id)
    if user.email:
        return OutboxMessage(channel=Channel.EMAIL, recipient=user.email, template=template, context=context, order_id=order_id)
    return None


def _people(org_ids, roles) -> dict[int, list[User]]:
    found = defaultdict(list)
    users = (User.objects.filter(organization_id__in=set(org_ids), is_active=True, roles__code__in=roles)
             .distinct().only("id", "organization_id", "phone", "email").order_by("pk"))
    for u in users:
        found[u.organization_id].append(u)
    return found


def _context(clock: SlaClock, **extra) -> dict:
    holder = clock.holder_user or clock.holder_org
    return {"number": clock.order.number, "target": clock.target, "due": _local(clock.due_at),
            "holder": str(holder) if holder else "", "clock_id": clock.pk, "order_path": f"/orders/{clock.order_id}/",
            **extra}


# The active people of some organizations holding some roles, one row per (person, role). Hand-
# written (issue 14): it runs at every handoff notice (each create and most actions), and building
# the ORM's join of users and their roles cost more than running it. Plain columns only; the people
# are User instances with these fields loaded (like ``.only()``). tests/sla/test_pool_members.py
# pins the result against the ORM's on both databases.
# Model.from_db takes a partial row in the model's field order.
_POOL_USER_FIELDS = [f.attname for f in User._meta.concrete_fields if f.attname in ("id", "organization_id", "phone", "email")]
_POOL_SQL = ("SELECT " + ", ".join(f"u.{name}" for name in _POOL_USER_FIELDS) + ", r.role_id FROM accounts_user u "
             "INNER JOIN accounts_user_roles r ON r.user_id = u.id "
             "WHERE u.is_active = %s AND u.organization_id IN ({orgs}) AND r.role_id IN ({roles}) ORDER BY u.id")


def pool_members(pairs) -> dict[tuple[int, str], list[User]]:
    """{(organization, pool): the active people who answer for that pool there}, in one query.
    ``pairs``: (organization id, pool code). A pool is answered by its first tier of roles that has
    anyone in the organization (POOL_ROLES): every tier's people are read at once, with the role
    each row came by, and the tiers are tried here (it was one query per tier tried: a dispatch's
    acceptance pool asked twice)."""
    wanted = {(org, pool) for org, pool in pairs if org}
    if not wanted:
        return {}
    roles = sorted({role for _org, pool in wanted for tier in POOL_ROLES.get(pool, POOL_ROLES[""]) for role in tier})
    orgs = sorted({org for org, _pool in wanted})
    people: dict[int, dict[int, User]] = defaultdict(dict)  # org -> {user id: user}, by id
    held: dict[int, set[str]] = defaultdict(set)  # user id -> the roles asked for that they hold
    with connection.cursor() as cursor:
        cursor.execute(_POOL_SQL.format(orgs=", ".join(["%s"] * len(orgs)), roles=", ".join(["%s"] * len(roles))),
                       [True, *orgs, *roles])
        for *values, role in cursor.fetchall():
            u = User.from_db(connection.alias, _POOL_USER_FIELDS, values)
            people[u.organization_id].setdefault(u.pk, u)
            held[u.pk].add(role)
    found: dict[tuple[int, str], list[User]] = {}
    for org, pool in wanted:
        for tier in POOL_ROLES.get(pool, POOL_ROLES[""]):
            members = [u for u in people[org].values() if held[u.pk] & set(tier)]
            if members:
                found[(org, pool)] = members
                break
    return found


def clock_recipients(clocks: list[SlaClock]) -> dict[int, list[User]]:
    """{clock id: who answers for it now}: the person holding the hop; while it sits in a pool,
    the pool's members in the holding organization."""
    pools = pool_members((c.holder_org_id, c.holder_pool) for c in clocks if c.holder_user_id is None)
    return {c.pk: [c.holder_user] if c.holder_user_id else pools.get((c.holder_org_id, c.holder_pool), [])
            for c in clocks}


def _notices_to_holders(clocks: list[SlaClock], template: str) -> list[OutboxMessage]:
    """The person holding the order; when it sits in a pool, the pool's members (SMS or e-mail),
    and every one of them in the app's inbox too."""
    from aftersales.notify.inbox import inbox_add_many

    recipients = clock_recipients(clocks)
    messages, notes = [], []
    for clock in clocks:
        context = _context(clock)
        people = recipients[clock.pk]
        messages += [m for u in people if (m := _reach(u, template, context, clock.order_id))]
        notes += [(u.pk, clock.order_id, template, context) for u in people]
    inbox_add_many(notes)
    return messages


def _escalation_notices(clocks: list[SlaClock], level: EscalationLevel) -> list[OutboxMessage]:
    if level.scope == EscalationScope.SERVICE_CENTER:
        centres = list(Organization.objects.filter(kind=OrganizationKind.SERVICE_CENTER, is_active=True).values_list("pk", flat=True))
        by_org = _people(centres, [level.role])
        everyone = [u for org in centres for u in by_org.get(org, [])]
        recipients = {c.pk: everyone for c in clocks}
    else:
        by_org = _people([c.holder_org_id for c in clocks if c.holder_org_id], [level.role])
        recipients = {c.pk: by_org.get(c.holder_org_id, []) for c in clocks}
    from aftersales.notify.inbox import inbox_add_many

    messages, notes = [], []
    for clock in clocks:
        context = _context(clock, level=level.level)
        messages += [m for u in recipients[clock.pk] if (m := _reach(u, "sla_escalation", context, clock.order_id))]
        notes += [(u.pk, clock.order_id, "sla_escalation", context) for u in recipients[clock.pk]]
    inbox_add_many(notes)
    return messages


def _with_webhooks(clocks: list[SlaClock], template: str, messages: list[OutboxMessage], subscribers) -> list[OutboxMessage]:
    for clock in clocks:
        messages += webhook_messages(template=template, context=_context(clock), order_id=clock.order_id, subscribers=subscribers)
    return messages


def sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Mark the clocks that reached 80 % (warning), their due time (breach) or an escalation level's
    delay, and queue the notices, all in one transaction.

    Each mark is one conditional, set-based UPDATE (``... WHERE warned_at IS NULL AND warn_at <= now``)
    that stamps this sweep's token: a second sweep, or a concurrent one, finds nothing left to mark
    (on PostgreSQL the second UPDATE waits for the first's row locks and re-checks the condition; on
    SQLite the IMMEDIATE transactions run one after the other). Only the rows a sweep stamped get
    notices, so nothing is notified twice.
    """
    now = now or timezone.now()
    token = uuid.uuid4().hex[:24]
    counts = {"warned": 0, "breached": 0, "escalated": 0, "messages": 0}
    with transaction.atomic():
        subscribers = webhook_subscribers()
        messages: list[OutboxMessage] = []

        SlaClock.objects.filter(OPEN_CLOCK, warned_at__isnull=True, warn_at__lte=now, due_at__gt=now).update(
            warned_at=now, sweep_token=token + "w")
        warned = list(_claimed(token + "w"))
        counts["warned"] = len(warned)
        messages += _with_webhooks(warned, "sla_warning", _notices_to_holders(warned, "sla_warning"), subscribers)

        SlaClock.objects.filter(OPEN_CLOCK, breach_noticed_at__isnull=True, due_at__lte=now).update(
            breach_noticed_at=now, warned_at=Coalesce("warned_at", now), sweep_token=token + "b")
        breached = list(_claimed(token + "b"))
        counts["breached"] = len(breached)
        messages += _with_webhooks(breached, "sla_breach", _notices_to_holders(breached, "sla_breach"), subscribers)

        # Levels in order, each from the one before: a clock long overdue climbs them one by one in
        # this sweep, and a level once reached never fires again.
        previous = 0
        for level in EscalationLevel.objects.filter(is_active=True).order_by("level"):
            SlaClock.objects.filter(
                OPEN_CLOCK, breach_noticed_at__isnull=False, escalation_level=previous,
                due_at__lte=now - timedelta(minutes=level.after_minutes),
            ).update(escalation_level=level.level, sweep_token=f"{token}e{level.level}")
            climbed = list(_claimed(f"{token}e{level.level}"))
            counts["escalated"] += len(climbed)
            messages += _escalation_notices(climbed, level)
            previous = level.level
        outbox_enqueue_many(messages)
        counts["messages"] = len(messages)
    return counts
