"""Scoped reads of service orders. Every read takes the acting user; what the user's organization
may not see does not exist for them."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.accounts.models import SERVICE_PROVIDER_KINDS, Organization, RoleCode, Skill, User
from aftersales.core.errors import NotFound
from aftersales.service import policies, workflow
from aftersales.service.models import (
    OPEN_STATUSES,
    Attachment,
    Complaint,
    Escalation,
    OrderEvent,
    OrderStatus,
    Quote,
    ServiceOrder,
)


def order_queryset_plain(user) -> QuerySet[ServiceOrder]:
    """Visible orders without joins: what services lock (SELECT ... FOR UPDATE of one table)."""
    qs = ServiceOrder.objects.all()
    q = policies.order_visibility_q(user)
    return qs if q is None else qs.filter(q)


def order_queryset(user) -> QuerySet[ServiceOrder]:
    return order_queryset_plain(user).select_related(
        "customer", "machine", "machine__model", "owning_org", "owner", "assigned_org",
        "assigned_technician", "hotline_technician",
    )


# What one row of the workbench's lists shows (web/_order_table.html, web/_order_card.html): the
# customer, the machine and its model, who the order is assigned to, and these columns. On
# PostgreSQL planning order_queryset's 10-table join took ~20 ms, ten times longer than running it
# for a 25-row page, and reading every column of six tables was a third of the page's CPU. A list
# that shows another column must add it here (the pages' query-count tests catch a lazy load per row).
ORDER_ROW_RELATED = ("customer", "machine__model", "assigned_org", "assigned_technician")
ORDER_ROW_FIELDS = (
    "number", "order_type", "status", "service_level", "created_at", "promised_at", "appointment_at",
    "field_location", "symptom", "customer_id", "machine_id", "assigned_org_id", "assigned_technician_id",
    "customer__name", "customer__city", "customer__county", "machine__serial_number", "machine__model__name",
    "assigned_org__name", "assigned_technician__username", "assigned_technician__first_name",
    "assigned_technician__last_name", "assigned_technician__display_name",
)


# What the order page shows of the related rows (the customer, the machine and its model, the
# first-contact owner, the assignee); the rest are read by id. Half the cost of order_queryset's
# eight joins per page on PostgreSQL.
ORDER_PAGE_RELATED = ("customer", "machine__model", "owner", "assigned_org", "assigned_technician")
# The rows an order has at most one of (reverse one-to-one relations).
ORDER_CHILDREN = ("service_record", "complaint", "return_request", "rating")


def order_get(user, pk: int, *, related: tuple[str, ...] | None = None) -> ServiceOrder:
    """One visible order (else NotFound). ``related``: the relations to join, if not all of
    order_queryset's."""
    qs = order_queryset(user) if related is None else order_queryset_plain(user).select_related(*related)
    try:
        return qs.get(pk=pk)
    except ServiceOrder.DoesNotExist:
        raise NotFound(_("Service order not found.")) from None


def order_search(
    user, *, status: str = "", order_type: str = "", level: str = "", mode: str = "",
    organization: int | None = None, technician: int | None = None, customer: int | None = None,
    machine: int | None = None, created_from: datetime | None = None, created_to: datetime | None = None,
    overdue: bool | None = None, number: str = "", channel: str = "",
) -> QuerySet[ServiceOrder]:
    qs = order_queryset(user)
    if channel:
        qs = qs.filter(channel=channel)
    if status:
        qs = qs.filter(status__in=[s for s in status.split(",") if s])
    if order_type:
        qs = qs.filter(order_type=order_type)
    if level:
        qs = qs.filter(service_level=level)
    if mode:
        qs = qs.filter(service_mode=mode)
    if organization is not None:
        qs = qs.filter(assigned_org_id=organization)
    if technician is not None:
        qs = qs.filter(assigned_technician_id=technician)
    if customer is not None:
        qs = qs.filter(customer_id=customer)
    if machine is not None:
        qs = qs.filter(machine_id=machine)
    if created_from is not None:
        qs = qs.filter(created_at__gte=created_from)
    if created_to is not None:
        qs = qs.filter(created_at__lt=created_to)
    if number:
        qs = qs.filter(number__startswith=number.strip().upper())
    if overdue is not None:
        # Past the time promised to the customer while still open (SLA clocks come later).
        late = Q(promised_at__lt=timezone.now()) & ~Q(status__in=["completed", "closed", "cancelled"])
        qs = qs.filter(late) if overdue else qs.exclude(late)
    return qs.order_by("-created_at", "-id")


def order_phone_q(user, raw: str) -> Q | None:
    """Orders whose contact number a phone fragment may match for ``user`` (the phone rule of
    registry/policies.py as a condition): a suffix only among orders whose full number the user may
    read (the customer is theirs, or they serve an open order of it, or a dealer recorded the
    order); anyone else matches the whole number only. None: nothing matches."""
    from aftersales.accounts.models import OrganizationKind
    from aftersales.core.phones import phone_search_digits
    from aftersales.registry.models import Customer
    from aftersales.registry.policies import full_phone_customers_q
    from aftersales.registry.selectors import _whole_number

    digits = phone_search_digits(raw)
    if len(digits) < 4:
        return None
    full = full_phone_customers_q(user)
    if full is None:
        return Q()
    number = _whole_number(raw)
    whole = Q(contact_phone=number) if number else None
    if full is False:
        return whole
    mine = Q(customer__in=Customer.objects.filter(full).values("pk"))
    if user.organization.kind == OrganizationKind.DEALER:
        mine |= Q(owning_org_id=user.organization_id)
    return mine | whole if whole is not None else mine


def order_rows(user, **filters) -> QuerySet[ServiceOrder]:
    """``order_search`` for a list page: the same rows and order, joined only to what a row shows."""
    return order_search(user, **filters).select_related(None).select_related(*ORDER_ROW_RELATED).only(*ORDER_ROW_FIELDS)


def order_status_counts(user, statuses, *, cap: int) -> dict[str, int]:
    """{status: how many orders the user sees in it} for the given statuses, each counted to at most
    ``cap + 1``: a value above ``cap`` means "more than cap"; a status without orders is left out.

    A work queue needs "more than a hundred", not the exact size of the open set: an exact GROUP BY
    over a network-wide user's scope reads every open order (60 ms at 100,000 orders on PostgreSQL,
    growing with the table). Bounded, a network-wide user's count of a status is read newest first
    along the (status, created_at, id) index and stops after cap + 1 rows, whatever the size of the
    table (unordered, PostgreSQL chose bitmap scans that read every entry of the status first).

    One query: the per-status subqueries joined by UNION ALL, each wrapped in its own SELECT
    COUNT(*) because SQLite allows no LIMIT in a compound's arms. The ORM builds the subquery (with
    the user's scope) once, for a placeholder status; each arm is that SQL with its own status in
    the parameters, since compiling fifteen querysets cost more CPU than the query itself."""
    statuses = list(statuses)
    placeholder = "\x00status"  # no status is spelled like this
    qs = order_queryset_plain(user).filter(status=placeholder)
    if policies.order_visibility_q(user) is None:
        qs = qs.order_by("-created_at", "-id")
    else:
        # An organization's orders: unordered, so that the planner reads the organization's orders
        # in the status from the organization indexes; newest first it walked every order in the
        # status looking for the organization's (0.9 s at 1,000,000 orders).
        qs = qs.order_by()
    qs = qs.values("status")
    try:
        sql, base_params = qs[:cap + 1].query.sql_with_params()
    except EmptyResultSet:  # a user who sees no orders
        return {}
    if not statuses:
        return {}
    parts, params = [], []
    for i, status in enumerate(statuses):
        parts.append(f"SELECT {i}, COUNT(*) FROM ({sql}) bounded_{i}")
        params.extend(status if p == placeholder else p for p in base_params)
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        return {statuses[i]: n for i, n in cursor.fetchall() if n}


def order_allowed_actions(user, order: ServiceOrder) -> list[dict]:
    """The actions this user may take on this order, read from the table; the ones a guard blocks
    are listed with the reason, so a UI can show them disabled and say why."""
    result = []
    for t in workflow.TRANSITIONS:
        if order.status not in t.sources or not workflow.may_take(user, order, t):
            continue
        reason = t.guard(order) if t.guard else None
        result.append({
            "action": t.action, "label": str(t.label), "target": t.target_for(order, _resume_status(order, t)),
            "enabled": reason is None, "blocked_reason": reason or "",
        })
    return result


def _resume_status(order, t) -> str | None:
    if t.target != workflow.RESUME:
        return None
    esc = open_escalation(order)
    return esc.resume_status if esc else None


def open_escalation(order: ServiceOrder):
    """The escalation still waiting for its answer (at most one), from the order's held list."""
    return min((e for e in order.escalation_list() if e.answered_at is None), key=lambda e: e.pk, default=None)


def order_events(user, order: ServiceOrder) -> QuerySet[OrderEvent]:
    return order.events.select_related("actor", "actor_org").order_by("seq")


def order_attachments(user, order: ServiceOrder) -> QuerySet[Attachment]:
    return order.attachments.all()


def attachment_get(user, order: ServiceOrder, pk: int) -> Attachment:
    try:
        return order.attachments.get(pk=pk)
    except Attachment.DoesNotExist:
        raise NotFound(_("Attachment not found.")) from None


def order_quotes(user, order: ServiceOrder) -> QuerySet[Quote]:
    return order.quotes.order_by("id")


def escalation_queryset(user, *, open_only: bool = False) -> QuerySet[Escalation]:
    qs = Escalation.objects.filter(order__in=order_queryset_plain(user)).select_related("order", "raised_by", "engineer")
    if open_only:
        qs = qs.filter(answered_at__isnull=True)
    return qs.order_by("-raised_at", "-id")


def complaint_queryset(user, *, open_only: bool = False) -> QuerySet[Complaint]:
    qs = Complaint.objects.filter(order__in=order_queryset_plain(user)).select_related(
        "order", "order__customer", "about_order", "about_org", "supervisor"
    )
    if open_only:
        qs = qs.filter(order__status__in=OPEN_STATUSES)
    return qs.order_by("-order__created_at", "-id")


def open_load_q(prefix: str = "") -> Q:
    return Q(**{f"{prefix}status__in": [s for s in OPEN_STATUSES if s != OrderStatus.COMPLETED]})


def dispatch_suggestions(order: ServiceOrder, *, limit: int = 10) -> list[Organization]:
    """Service providers whose coverage holds the customer's place and who have a technician
    skilled in the machine's category, least loaded first (the repair coordinator decides)."""
    customer = order.customer
    region = Q(coverage__province=customer.province) & (
        Q(coverage__city="") | Q(coverage__city=customer.city, coverage__county="")
        | Q(coverage__city=customer.city, coverage__county=customer.county)
    )
    technicians = User.objects.filter(organization=OuterRef("pk"), is_active=True, roles__code=RoleCode.FIELD_TECHNICIAN)
    category = order.machine.model.category if order.machine_id else None
    if category:
        technicians = technicians.filter(Exists(Skill.objects.filter(user=OuterRef("pk"), category=category)))
    qs = (
        Organization.objects.filter(is_active=True, kind__in=SERVICE_PROVIDER_KINDS)
        .filter(region if customer.province else Q(pk__in=[]))
        .filter(Exists(technicians))
        .annotate(open_load=Count("assigned_orders", filter=open_load_q("assigned_orders__"), distinct=True))
        .order_by("open_load", "code")
        .distinct()
    )
    return list(qs[:limit])
