"""Scoped reads of clocks: one's own overdue clocks (held by oneself or by one's pool), an
organization's clocks at risk, an order's, the badges of a page of orders, breaches for the
supervisor. "Overdue" and "breached" are read against now, never against the sweeper's marks: a
clock is breached from its due time on, whether the sweep has noticed it yet or not."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.accounts.policies import sees_whole_network
from aftersales.core.errors import NotFound
from aftersales.sla import engine
from aftersales.sla.models import ClockState, SlaClock, SlaPolicy, Target

COUNTING = (ClockState.RUNNING, ClockState.PAUSED)
# The order of the hops: the first counting clock in this order is the order's current hop (the
# later ones, "fixed" and the 30-day ceiling, run under it for most of an order's life).
HOP_ORDER = {code: i for i, code in enumerate(engine.STAGES)}


def _clocks() -> QuerySet[SlaClock]:
    return SlaClock.objects.select_related("order")


def my_pools(user) -> list[str]:
    """The role pools the user answers for in their organization (sla.services.POOL_ROLES)."""
    from aftersales.sla.services import POOL_ROLES

    codes = user.role_codes()
    return [pool for pool, tiers in POOL_ROLES.items() if pool and any(set(roles) & codes for roles in tiers)]


def held_by_q(user) -> Q:
    """Clocks the user answers for: held by them, or sitting in one of their pools in their
    organization (the information coordinators hold the 15-minute handoff until one forwards)."""
    q = Q(holder_user=user)
    pools = my_pools(user)
    if user.organization_id and pools:
        q |= Q(holder_user__isnull=True, holder_org_id=user.organization_id, holder_pool__in=pools)
    return q


def breached_q(now: datetime) -> Q:
    """Breached clocks: stopped late, paused after running out, or still running past due."""
    return Q(outcome=ClockState.BREACHED) | Q(state=ClockState.RUNNING, due_at__lte=now)


def my_overdue(user) -> QuerySet[SlaClock]:
    """Running clocks past due that the user or the user's pool holds, the longest overdue first."""
    return (_clocks().filter(held_by_q(user), state=ClockState.RUNNING, due_at__lte=timezone.now())
            .order_by("due_at", "id"))


def overdue_order_ids(user):
    """A subquery of the orders whose running clock the user (or their pool) has let run out."""
    return (SlaClock.objects.filter(held_by_q(user), state=ClockState.RUNNING, due_at__lte=timezone.now())
            .values("order_id"))


def at_risk(user, organization_id: int | None = None) -> QuerySet[SlaClock]:
    """Running clocks of an organization past their warning time (overdue included), least time left
    first. Only one's own organization, unless one sees the whole network."""
    org_id = organization_id or user.organization_id
    if org_id != user.organization_id and not sees_whole_network(user):
        raise NotFound(_("Organization not found."))
    return _clocks().filter(state=ClockState.RUNNING, holder_org_id=org_id, warn_at__lte=timezone.now()).order_by("due_at", "id")


def order_clocks(user, order_id: int) -> list[SlaClock]:
    from aftersales.service.selectors import order_get

    order = order_get(user, order_id)  # 404 for an order the user cannot see
    return list(_clocks().filter(order=order).order_by("started_at", "id"))


def policy_list() -> QuerySet[SlaPolicy]:
    return SlaPolicy.objects.order_by("target", "id")


# --- badges --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Badge:
    """What a page shows of one clock: the hop, its due time, the state as of now (running,
    at_risk, paused, met, breached, cancelled) and the minutes left (negative once overdue)."""

    order_id: int
    target: str
    hop: str
    state: str
    started_at: datetime
    due_at: datetime | None
    remaining_minutes: int | None
    counting: bool

    @property
    def overdue_minutes(self) -> int:
        return -self.remaining_minutes if self.remaining_minutes is not None and self.remaining_minutes < 0 else 0

    @property
    def text(self) -> str:
        """"还剩 1小时5分" / "超时 12分" / "已达成": what the badge says after the hop's name."""
        if self.counting and self.remaining_minutes is not None:
            if self.remaining_minutes < 0:
                return _("overdue %(time)s") % {"time": _span(-self.remaining_minutes)}
            return _("%(time)s left") % {"time": _span(self.remaining_minutes)}
        return str(ClockState(self.state).label) if self.state in ClockState.values else self.state


def _span(minutes: int) -> str:
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return _("%(d)sd %(h)sh") % {"d": days, "h": hours}
    if hours:
        return _("%(h)sh %(m)smin") % {"h": hours, "m": mins}
    return _("%(m)smin") % {"m": mins}


def badge(clock: SlaClock, now: datetime) -> Badge:
    state = clock.state_at(now)
    if state == ClockState.RUNNING and clock.warn_at is not None and clock.warn_at <= now:
        state = "at_risk"
    remaining = None
    if clock.counting and clock.due_at is not None:
        remaining = int((clock.due_at - now).total_seconds() // 60)
    return Badge(order_id=clock.order_id, target=clock.target, hop=str(Target(clock.target).label), state=state,
                 started_at=clock.started_at, due_at=clock.due_at, remaining_minutes=remaining, counting=clock.counting)


_BADGE_FIELDS = ("id", "order_id", "target", "state", "outcome", "due_at", "warn_at", "started_at")


def clocks_for_orders(user, orders, *, current_only: bool = True) -> dict[int, list[Badge]]:
    """{order id: [badge, ...]} for a page of orders the user was shown, in one query.

    ``current_only``: the clock of the order's current hop (the first counting clock in hop
    order), for the rows and cards of a list; else every clock of the order (the order page).
    The orders come from the user's scoped selectors; the clocks are read for those ids only."""
    ids = [o.pk for o in orders]
    if not ids:
        return {}
    now = timezone.now()
    rows = SlaClock.objects.filter(order_id__in=ids).only(*_BADGE_FIELDS)
    if current_only:
        rows = rows.filter(state__in=COUNTING)
    found: dict[int, list[SlaClock]] = defaultdict(list)
    for clock in rows:
        found[clock.order_id].append(clock)
    result = {}
    for order_id, clocks in found.items():
        if current_only:
            clocks = [min(clocks, key=lambda c: HOP_ORDER.get(c.target, 99))]
        else:
            clocks.sort(key=lambda c: (c.started_at, HOP_ORDER.get(c.target, 99)))
        result[order_id] = [badge(c, now) for c in clocks]
    return result


# --- supervision ---------------------------------------------------------------------------------

def _visible_clocks(user) -> QuerySet[SlaClock]:
    from aftersales.service.selectors import order_queryset_plain

    qs = SlaClock.objects.all()
    if sees_whole_network(user):
        return qs
    return qs.filter(order__in=order_queryset_plain(user))


def month_figures(user, *, since: datetime | None = None) -> dict:
    """One aggregate over the clocks of the orders the user sees (started since ``since``):
    {"by_hop": [(hop code, label, breaches)] in hop order with zeros, "handoff_seconds" and
    "arrival_seconds": the average elapsed time, start to stop, of the finished handoff and
    on-site clocks (None without any)}."""
    now = timezone.now()
    qs = _visible_clocks(user)
    if since is not None:
        qs = qs.filter(started_at__gte=since)
    elapsed = ExpressionWrapper(F("stopped_at") - F("started_at"), output_field=DurationField())
    finished = Q(stopped_at__isnull=False, state__in=(ClockState.MET, ClockState.BREACHED))
    aggregates = {f"b_{code}": Count("id", filter=breached_q(now) & Q(target=code)) for code in Target.values}
    aggregates["handoff"] = Avg(elapsed, filter=finished & Q(target=Target.HANDOFF))
    aggregates["arrival"] = Avg(elapsed, filter=finished & Q(target=Target.ON_SITE))
    row = qs.aggregate(**aggregates)
    seconds = {k: None if row[k] is None else int(row[k].total_seconds()) for k in ("handoff", "arrival")}
    return {"by_hop": [(code, str(label), row[f"b_{code}"]) for code, label in Target.choices],
            "handoff_seconds": seconds["handoff"], "arrival_seconds": seconds["arrival"]}


def breaches_by_hop(user, *, since: datetime | None = None) -> list[tuple[str, str, int]]:
    """[(hop code, hop label, breaches)] over the clocks of the orders the user sees, for clocks
    started since ``since`` (all when None); every hop listed, zeros included, in hop order."""
    return month_figures(user, since=since)["by_hop"]


def breaches_by_organization(user, *, since: datetime | None = None, limit: int = 10) -> list[tuple[str, int]]:
    """[(organization name, breaches)], most first: the organization answerable for the hop when
    the clock ran out (its holder)."""
    now = timezone.now()
    qs = _visible_clocks(user).filter(breached_q(now), holder_org__isnull=False)
    if since is not None:
        qs = qs.filter(started_at__gte=since)
    rows = qs.values_list("holder_org__name").annotate(n=Count("id")).order_by("-n", "holder_org__name")[:limit]
    return [(name, n) for name, n in rows]


def attainment(user, *, since: datetime, until: datetime, by: str) -> list[dict]:
    """SLA attainment (达标率) of the finished clocks (met or breached) of the orders the user sees,
    started in [since, until), per ``by``: "target" (the hop), "holder_org" (the organization that
    held the hop when it stopped) or "holder_user" (the person). For the statistics centre."""
    field = {"target": "target", "holder_org": "holder_org__name", "holder_user": "holder_user__username"}[by]
    qs = _visible_clocks(user).filter(started_at__gte=since, started_at__lt=until,
                                      state__in=(ClockState.MET, ClockState.BREACHED))
    rows = (qs.values_list(field).annotate(n=Count("id"), met=Count("id", filter=Q(state=ClockState.MET)))
            .order_by(field))
    return [{"group": key or "-", "n": n, "met": met, "value": round(met / n, 4) if n else None} for key, n, met in rows]
