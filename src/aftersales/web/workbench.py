"""Which page each role starts on and which orders each role must act on first."""

from __future__ import annotations

from django.urls import reverse

from aftersales.accounts.models import RoleCode as R
from aftersales.service.models import OPEN_STATUSES, OrderStatus as S
from aftersales.quality.policies import may_work_on_quality
from aftersales.parts import policies as parts_policies
from aftersales.calls.policies import may_read_calls
from aftersales.inbox.policies import may_handle_inbox
from aftersales.stats.policies import may_read_stats
from aftersales.visits.policies import may_visit

# The statuses in which a role has the next move (read with the transition table in workflow.py).
ACT_FIRST: dict[str, tuple[str, ...]] = {
    R.CALL_AGENT: (S.NEW, S.COMPLETED),
    R.INFORMATION_COORDINATOR: (S.NEW, S.COMPLETED),
    R.HOTLINE_TECHNICIAN: (S.FORWARDED, S.DIAGNOSING),
    R.REPAIR_COORDINATOR: (S.AWAITING_DISPATCH, S.DISPATCHED, S.ACCEPTED),
    R.FIELD_TECHNICIAN: (S.DISPATCHED, S.ACCEPTED, S.ASSIGNED, S.TECH_ACCEPTED, S.SCHEDULED, S.IN_SERVICE,
                         S.AWAITING_CONFIRMATION),
    R.TECHNICAL_ENGINEER: (S.ESCALATED, S.AWAITING_APPROVAL),
    R.SUPERVISOR: (S.NEW, S.INVESTIGATING, S.ESCALATED, S.AWAITING_CONFIRMATION),
}

# The order of the status tabs: the life of an order.
STATUS_ORDER = [s for s in S.values if s in OPEN_STATUSES]


def act_first_statuses(user) -> list[str]:
    codes = user.role_codes()
    if R.ADMINISTRATOR in codes:
        return list(STATUS_ORDER)
    wanted = {s for code in codes for s in ACT_FIRST.get(code, ())}
    return [s for s in STATUS_ORDER if s in wanted]


def workbench_url(user) -> str:
    codes = user.role_codes()
    if R.CALL_AGENT in codes:
        return reverse("web:desk")
    if R.FIELD_TECHNICIAN in codes:
        return reverse("web:tech")
    if R.SUPERVISOR in codes:
        return reverse("web:supervisor")
    return reverse("web:queue")


def nav_items(user) -> list[tuple[str, str]]:
    """(url name, label) of the workbenches this user has, for the top bar."""
    from django.utils.translation import gettext as _

    codes = user.role_codes()
    items = []
    if codes & {R.CALL_AGENT, R.ADMINISTRATOR}:
        items.append(("web:desk", _("Call desk")))
    items.append(("web:queue", _("Queue")))
    if codes & {R.FIELD_TECHNICIAN}:
        items.append(("web:tech", _("My orders today")))
    if codes & {R.SUPERVISOR, R.ADMINISTRATOR}:
        items.append(("web:supervisor", _("Supervision")))
    items.append(("web:knowledge", _("Knowledge")))
    if not codes <= {R.FIELD_TECHNICIAN}:  # a technician's phone has no room for the archive
        items += [("web:customers", _("Customer archive")), ("web:machines", _("Machine archive"))]
    if may_read_stats(user) and codes & {R.SUPERVISOR, R.ADMINISTRATOR, R.TECHNICAL_ENGINEER, R.REPAIR_COORDINATOR}:
        items.append(("stats:dashboard", _("Statistics")))
    if may_work_on_quality(user):
        items.append(("quality:list", _("Quality issues")))
    items.append(("standards:home", _("Standards")))
    if parts_policies.may_use_parts(user) or parts_policies.is_parts_desk(user) or parts_policies.may_inspect(user):
        items.append(("parts:home", _("Parts")))
    if parts_policies.may_review_claims(user) or (parts_policies.may_use_parts(user) and not codes <= {R.FIELD_TECHNICIAN}):
        items.append(("parts:claims", _("Warranty claims")))
    if may_visit(user):
        items.append(("visits:worklist", _("Return visits")))
    if may_read_calls(user) and codes & {R.CALL_AGENT, R.SUPERVISOR, R.ADMINISTRATOR}:
        items.append(("calls:day", _("Calls")))
    if may_handle_inbox(user):
        items.append(("mailbox:list", _("Fax and e-mail")))
    return items
