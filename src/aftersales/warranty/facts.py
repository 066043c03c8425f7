"""What the 三包 warranty engine (warranty.engine) reads and answers: the facts in (the machine, its
repair record, the fault), the explained decision out, and the codes both use. Pure data, no ORM;
``engine`` re-exports every public name here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from .policy import CATEGORIES, EXCLUSION_CODES

# The component name for "the machine as a whole" in repair records and faults, e.g. a workshop
# overhaul of the whole machine or an exchange.
WHOLE_MACHINE = "whole_machine"

COVERAGE_STATES = ("covered", "not_started", "expired", "excluded", "wear_part", "unknown")
REMEDIES = ("none", "repair", "main_part_replacement", "exchange", "return")
REPAIR_KINDS = ("repair", "main_part_replacement", "exchange")
PART_CLASSES = ("main", "general", "wear")


# --- facts in ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MachineFacts:
    """What is known about one machine (设备档案).

    ``main_parts`` / ``wear_parts`` override the regime's category defaults when the product model
    has its own lists. ``host_category`` is only read for engines: an engine sold as the power unit
    of another machine takes that machine's periods and service mode.
    """

    category: str
    rated_power_kw: Decimal | None = None
    invoice_date: date | None = None
    delivery_date: date | None = None
    exchanges: Sequence[date] = ()
    host_category: str | None = None
    main_parts: Sequence[str] | None = None
    wear_parts: Sequence[str] | None = None
    first_season_start: date | None = None


@dataclass(frozen=True)
class RepairRecord:
    """One entry of the repair record (维修记录).

    ``days_waiting_parts`` are days the machine stood idle waiting for parts *outside*
    ``started``..``finished`` (e.g. between diagnosis and the repair starting); days inside that
    interval already count as repair days, and counting them twice would over-extend the period.
    ``finished`` is None while the repair is open: an open repair extends the period up to the day
    of evaluation and its ``started`` (the intake date) starts the 30-working-day repair deadline,
    but it is not yet one of the earlier repairs the replacement ladder counts.
    ``kind``: "repair", "main_part_replacement" (the component was replaced; for a part that is not
    a main part of this machine that is an ordinary repair) or "exchange" (the whole machine was
    exchanged because of this component's fault).
    """

    component: str
    started: date
    finished: date | None = None
    days_waiting_parts: int = 0
    serious: bool = False
    kind: str = "repair"
    under_warranty: bool = True
    workshop: bool = False

    @property
    def done_on(self) -> date:
        return self.finished or self.started


@dataclass(frozen=True)
class PartsWait:
    """Days the machine stood waiting for parts (待件) for a warranty repair: from ``started`` (the
    parts were requested) to ``finished`` (they arrived; None while still waiting, which counts up
    to the day of evaluation). ``reference`` names the request (a requisition number) so the reason
    can say which. The days count once even where they overlap a repair's own days: the period is
    extended by the days the user lost, not by the records that describe them.
    """

    started: date
    finished: date | None = None
    reference: str = ""
    under_warranty: bool = True


@dataclass(frozen=True)
class FaultFacts:
    """The fault being handled now. ``component`` None means the machine as a whole."""

    component: str | None = None
    exclusions: Set[str] = frozenset()
    serious: bool = False
    same_model_available: bool = True
    customer_requests_exchange: bool = False
    repair_intake_date: date | None = None


# --- decision out ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reason:
    """One step of the decision and the rule (regime clause) that produced it."""

    rule: str
    code: str
    text_zh: str
    text_en: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "code": self.code,
            "text_zh": self.text_zh,
            "text_en": self.text_en,
            "params": dict(self.params),
        }


@dataclass(frozen=True)
class WholeMachineCoverage:
    state: str
    start: date | None
    end: date | None
    extension_days: int
    rule: str
    # Of ``extension_days``, the days spent waiting for parts (shown with the extended end date).
    parts_wait_days: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "start": _iso(self.start),
            "end": _iso(self.end),
            "extension_days": self.extension_days,
            "parts_wait_days": self.parts_wait_days,
            "rule": self.rule,
        }


@dataclass(frozen=True)
class ComponentCoverage:
    state: str
    end: date | None
    rule: str
    part: str  # main | general | wear

    def to_dict(self) -> dict[str, Any]:
        return {"state": self.state, "end": _iso(self.end), "rule": self.rule, "part": self.part}


@dataclass(frozen=True)
class Coverage:
    whole_machine: WholeMachineCoverage
    components: Mapping[str, ComponentCoverage]

    def to_dict(self) -> dict[str, Any]:
        return {
            "whole_machine": self.whole_machine.to_dict(),
            "components": {k: v.to_dict() for k, v in self.components.items()},
        }


@dataclass(frozen=True)
class Evaluation:
    coverage: Coverage
    remedy: str
    service_mode: str
    reasons: tuple[Reason, ...]
    policy: Mapping[str, Any]

    def rules(self) -> list[str]:
        return [r.rule for r in self.reasons]

    def codes(self) -> list[str]:
        return [r.code for r in self.reasons]

    def to_dict(self) -> dict[str, Any]:
        return {
            "coverage": self.coverage.to_dict(),
            "remedy": self.remedy,
            "service_mode": self.service_mode,
            "reasons": [r.to_dict() for r in self.reasons],
            "policy": dict(self.policy),
        }


# --- checks and conversions -------------------------------------------------------------------


def _check_facts(
    machine: MachineFacts, repairs: Sequence[RepairRecord], fault: FaultFacts | None, waits: Sequence[PartsWait] = ()
) -> None:
    """Refuse facts the engine cannot reason about, rather than answer confidently and wrongly."""
    if machine.category not in CATEGORIES:
        raise ValueError(f"unknown product category {machine.category!r}")
    if machine.host_category is not None and machine.host_category not in CATEGORIES:
        raise ValueError(f"unknown host category {machine.host_category!r}")
    power = _decimal_or_none(machine.rated_power_kw)
    if power is not None and power < 0:
        raise ValueError("rated_power_kw must not be negative")
    for r in repairs:
        if r.kind not in REPAIR_KINDS:
            raise ValueError(f"unknown repair kind {r.kind!r}")
        if r.finished is not None and r.finished < r.started:
            raise ValueError(f"repair of {r.component!r} finished before it started")
        if r.days_waiting_parts < 0:
            raise ValueError("days_waiting_parts must not be negative")
    for w in waits:
        if w.finished is not None and w.finished < w.started:
            raise ValueError(f"parts wait {w.reference!r} ended before it started")
    if fault is not None:
        unknown = set(fault.exclusions) - set(EXCLUSION_CODES)
        if unknown:
            raise ValueError(f"unknown exclusion codes: {', '.join(sorted(unknown))}")


def _decimal_or_none(value: Any) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value
    try:
        # Through str so 18.1 (a float from a form) compares as 18.1, not 18.0999...
        return Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"rated_power_kw is not a number: {value!r}") from None


def _or_default(override: Sequence[str] | None, default: Sequence[str]) -> Sequence[str]:
    # An empty override is a real answer (a model with no wear parts), so test for None only.
    return default if override is None else override


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d is not None else None


def _json_safe(v: Any) -> Any:
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return str(v)
    return v
