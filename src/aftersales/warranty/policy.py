"""The warranty policy (保修政策) as data: a named, versioned regime of clauses.

The statutory floor (农业机械产品修理、更换、退货责任规定, 2010, 令第126号) and whatever the maker promises on
top of it change on their own timetables, and an administrator must be able to correct a figure
without a release. So every figure and every list the engine uses lives here, each under a clause
that carries a stable rule id (cited in every reason the engine gives) and how well it is sourced.

``Regime.from_dict`` is strict on purpose: the dict comes from an admin-edited JSON field, and a
typo'd key silently falling back to a default would change what customers are told they are owed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

__all__ = [
    "BASES",
    "CATEGORIES",
    "CLAUSE_KEYS",
    "ENGINE_CATEGORIES",
    "EXCLUSION_CODES",
    "NOT_COVERED_STATES",
    "PERIOD_CLASSES",
    "SERVICE_MODES",
    "Clause",
    "ExclusionsClause",
    "FirstSeasonClause",
    "PartListClause",
    "PeriodTerms",
    "PeriodsClause",
    "PolicyError",
    "Regime",
    "RepairDeadlineClause",
    "ReplacementClause",
    "ServiceModeClause",
    "WorkshopGuaranteeClause",
    "default_regime",
]

CATEGORIES = (
    "tractor",
    "combine_harvester",
    "rice_transplanter",
    "diesel_engine_single",
    "diesel_engine_multi",
    "implement",
    "other",
)
ENGINE_CATEGORIES = frozenset({"diesel_engine_single", "diesel_engine_multi"})

# Periods and service modes are keyed by class, not category: a tractor is two classes either
# side of the power threshold, and the annex gives each its own figures.
PERIOD_CLASSES = (
    "tractor_large",
    "tractor_small",
    "combine_harvester",
    "rice_transplanter",
    "diesel_engine_multi",
    "diesel_engine_single",
    "implement",
    "other",
)

EXCLUSION_CODES = (
    "no_proof",
    "misuse",
    "modification",
    "improper_handling",
    "man_made_damage",
    "force_majeure",
)
SERVICE_MODES = ("on_site", "carry_in", "mail_in", "paid", "phone")
NOT_COVERED_STATES = ("expired", "excluded", "wear_part", "unknown")

# How well a clause's figure is sourced, as tagged in docs/warranty.md: V read in an official text,
# S matching secondary sources, U unverified (a company default an administrator should confirm).
BASES = ("V", "S", "U")


class PolicyError(ValueError):
    """A regime dict that cannot be used; ``key`` is the dotted path of the offending entry."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem


# --- clauses -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Clause:
    """A rule with no parameters of its own: only its id and how well it is sourced."""

    rule: str
    basis: str

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "basis": self.basis}


@dataclass(frozen=True)
class PeriodTerms:
    """Whole-machine and main-part periods for one period class.

    ``main_parts_rule`` names a different clause where the main-part figure is not the annex's own
    (the annex leaves "other machines" to "as the maker states").
    """

    whole_machine_months: int
    main_parts_months: int
    main_parts_rule: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "whole_machine_months": self.whole_machine_months,
            "main_parts_months": self.main_parts_months,
        }
        if self.main_parts_rule is not None:
            d["main_parts_rule"] = self.main_parts_rule
        return d


@dataclass(frozen=True)
class PeriodsClause(Clause):
    tractor_power_threshold_kw: Decimal
    by_class: Mapping[str, PeriodTerms]

    def to_dict(self) -> dict[str, Any]:
        return {
            **super().to_dict(),
            # A string, not a float: JSON fields round floats and 18.0 vs 18 must stay exact.
            "tractor_power_threshold_kw": str(self.tractor_power_threshold_kw),
            "by_class": {k: v.to_dict() for k, v in self.by_class.items()},
        }


@dataclass(frozen=True)
class PartListClause(Clause):
    """Default part lists per product category; a product model may override them."""

    by_category: Mapping[str, tuple[str, ...]]

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "by_category": {k: list(v) for k, v in self.by_category.items()}}


@dataclass(frozen=True)
class ExclusionsClause(Clause):
    codes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "codes": list(self.codes)}


@dataclass(frozen=True)
class RepairDeadlineClause(Clause):
    working_days: int

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "working_days": self.working_days}


@dataclass(frozen=True)
class ReplacementClause(Clause):
    repairs_before: int

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "repairs_before": self.repairs_before}


@dataclass(frozen=True)
class FirstSeasonClause(Clause):
    days: int
    repairs_before: int

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "days": self.days, "repairs_before": self.repairs_before}


@dataclass(frozen=True)
class WorkshopGuaranteeClause(Clause):
    months: int

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "months": self.months}


@dataclass(frozen=True)
class ServiceModeClause(Clause):
    """Suggested service mode: by period class when covered, by state when not."""

    covered: Mapping[str, str]
    not_covered: Mapping[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {
            **super().to_dict(),
            "covered": dict(self.covered),
            "not_covered": dict(self.not_covered),
        }


# The clause keys a regime must define, with the class that reads each one.
_CLAUSE_TYPES: dict[str, type[Clause]] = {
    "start": Clause,
    "delivery_start": Clause,
    "counting": Clause,
    "holiday_rollover": Clause,
    "periods": PeriodsClause,
    "host_machine": Clause,
    "extension": Clause,
    "exchange_restart": Clause,
    "main_parts": PartListClause,
    "wear_parts": PartListClause,
    "exclusions": ExclusionsClause,
    "burden_of_proof": Clause,
    "free_repair": Clause,
    "repair_deadline": RepairDeadlineClause,
    "main_part_replacement": ReplacementClause,
    "first_season": FirstSeasonClause,
    "exchange": Clause,
    "return": Clause,
    "workshop_guarantee": WorkshopGuaranteeClause,
    "service_mode": ServiceModeClause,
}
CLAUSE_KEYS = tuple(_CLAUSE_TYPES)


# --- the regime ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Regime:
    """One named, dated, versioned warranty policy. Immutable: a change is a new version."""

    name: str
    version: int
    effective_from: date
    description: str
    clauses: Mapping[str, Clause]

    # Typed access for the engine; the dict keeps the JSON shape one-to-one with the data.
    @property
    def periods(self) -> PeriodsClause:
        return self.clauses["periods"]  # type: ignore[return-value]

    @property
    def main_parts(self) -> PartListClause:
        return self.clauses["main_parts"]  # type: ignore[return-value]

    @property
    def wear_parts(self) -> PartListClause:
        return self.clauses["wear_parts"]  # type: ignore[return-value]

    @property
    def exclusions(self) -> ExclusionsClause:
        return self.clauses["exclusions"]  # type: ignore[return-value]

    @property
    def repair_deadline(self) -> RepairDeadlineClause:
        return self.clauses["repair_deadline"]  # type: ignore[return-value]

    @property
    def main_part_replacement(self) -> ReplacementClause:
        return self.clauses["main_part_replacement"]  # type: ignore[return-value]

    @property
    def first_season(self) -> FirstSeasonClause:
        return self.clauses["first_season"]  # type: ignore[return-value]

    @property
    def workshop_guarantee(self) -> WorkshopGuaranteeClause:
        return self.clauses["workshop_guarantee"]  # type: ignore[return-value]

    @property
    def service_mode(self) -> ServiceModeClause:
        return self.clauses["service_mode"]  # type: ignore[return-value]

    def rule(self, clause_key: str) -> str:
        return self.clauses[clause_key].rule

    def rule_ids(self) -> frozenset[str]:
        """Every rule id this regime can cite, for checking reasons and building admin help."""
        ids = {c.rule for c in self.clauses.values()}
        ids.update(t.main_parts_rule for t in self.periods.by_class.values() if t.main_parts_rule)
        return frozenset(ids)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "effective_from": self.effective_from.isoformat(),
            "description": self.description,
            "clauses": {k: self.clauses[k].to_dict() for k in CLAUSE_KEYS},
        }

    @classmethod
    def from_dict(cls, d: Any) -> Regime:
        r = _Reader(d, "")
        name = r.text("name")
        version = r.integer("version", minimum=1)
        effective_from = r.iso_date("effective_from")
        description = r.text("description", allow_empty=True)
        clauses_r = r.sub("clauses")
        clauses = {key: _read_clause(key, kind, clauses_r.sub(key)) for key, kind in _CLAUSE_TYPES.items()}
        clauses_r.done()
        r.done()
        _check_parts_disjoint(clauses["main_parts"], clauses["wear_parts"])  # type: ignore[arg-type]
        return cls(
            name=name,
            version=version,
            effective_from=effective_from,
            description=description,
            clauses=MappingProxyType(clauses),
        )


@cache
def default_regime() -> Regime:
    """The bundled default: the 2010 statutory regime with the company's commitments on top."""
    text = resources.files(__package__).joinpath("data/regime_cn_2010.json").read_text("utf-8")
    return Regime.from_dict(json.loads(text))


# --- reading -------------------------------------------------------------------------------------


class _Reader:
    """Reads one JSON object, remembering which keys were used so leftovers can be refused."""

    def __init__(self, value: Any, path: str) -> None:
        if not isinstance(value, Mapping):
            raise PolicyError(path or "<root>", "must be an object")
        self._d = value
        self._path = path
        self._seen: set[str] = set()

    def key_path(self, key: str) -> str:
        return f"{self._path}.{key}" if self._path else key

    def _get(self, key: str, required: bool = True) -> Any:
        self._seen.add(key)
        if key not in self._d:
            if required:
                raise PolicyError(self.key_path(key), "is missing")
            return None
        return self._d[key]

    def has(self, key: str) -> bool:
        return key in self._d

    def text(self, key: str, *, allow_empty: bool = False) -> str:
        v = self._get(key)
        if not isinstance(v, str) or (not allow_empty and not v.strip()):
            raise PolicyError(self.key_path(key), "must be a non-empty string")
        return v

    def rule_id(self, key: str, *, required: bool = True) -> str | None:
        v = self._get(key, required)
        if v is None and not required:
            return None
        if not isinstance(v, str) or not v or v != v.strip() or any(ch.isspace() for ch in v):
            raise PolicyError(self.key_path(key), "must be a rule id without spaces, e.g. 'CN2010-Annex'")
        return v

    def choice(self, key: str, options: tuple[str, ...]) -> str:
        v = self._get(key)
        if v not in options:
            raise PolicyError(self.key_path(key), f"must be one of {', '.join(options)}")
        return v

    def integer(self, key: str, *, minimum: int = 0) -> int:
        v = self._get(key)
        # bool is an int subclass; "true" months is a data error, not 1.
        if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
            raise PolicyError(self.key_path(key), f"must be an integer >= {minimum}")
        return v

    def decimal(self, key: str) -> Decimal:
        v = self._get(key)
        if isinstance(v, bool) or not isinstance(v, (str, int, float)):
            raise PolicyError(self.key_path(key), "must be a decimal number")
        try:
            out = Decimal(str(v))
        except InvalidOperation:
            raise PolicyError(self.key_path(key), "must be a decimal number") from None
        if not out.is_finite() or out < 0:
            raise PolicyError(self.key_path(key), "must be a finite number >= 0")
        return out

    def iso_date(self, key: str) -> date:
        v = self._get(key)
        try:
            return date.fromisoformat(v)
        except (TypeError, ValueError):
            raise PolicyError(self.key_path(key), "must be an ISO date YYYY-MM-DD") from None

    def str_list(self, key: str) -> tuple[str, ...]:
        v = self._get(key)
        if not isinstance(v, list) or not all(isinstance(x, str) and x.strip() for x in v):
            raise PolicyError(self.key_path(key), "must be a list of non-empty strings")
        if len(set(v)) != len(v):
            raise PolicyError(self.key_path(key), "must not repeat an entry")
        return tuple(v)

    def sub(self, key: str) -> _Reader:
        return _Reader(self._get(key), self.key_path(key))

    def exact_keys(self, expected: tuple[str, ...]) -> None:
        """For maps keyed by a closed set (categories, classes): every one present, no others."""
        for k in expected:
            if k not in self._d:
                raise PolicyError(self.key_path(k), "is missing")
        self.done(allowed=set(expected))

    def done(self, allowed: set[str] | None = None) -> None:
        known = self._seen if allowed is None else allowed
        for k in self._d:
            if k not in known:
                raise PolicyError(self.key_path(str(k)), "is not a known key")


def _read_clause(key: str, kind: type[Clause], r: _Reader) -> Clause:
    rule = r.rule_id("rule")
    basis = r.choice("basis", BASES)
    clause: Clause
    if kind is Clause:
        clause = Clause(rule, basis)
    elif kind is PeriodsClause:
        threshold = r.decimal("tractor_power_threshold_kw")
        classes = r.sub("by_class")
        classes.exact_keys(PERIOD_CLASSES)
        by_class = {pc: _read_terms(classes.sub(pc)) for pc in PERIOD_CLASSES}
        clause = PeriodsClause(rule, basis, threshold, MappingProxyType(by_class))
    elif kind is PartListClause:
        cats = r.sub("by_category")
        cats.exact_keys(CATEGORIES)
        clause = PartListClause(rule, basis, MappingProxyType({c: cats.str_list(c) for c in CATEGORIES}))
    elif kind is ExclusionsClause:
        codes = r.str_list("codes")
        for code in codes:
            if code not in EXCLUSION_CODES:
                # The engine has no wording for an unknown code, so it could never explain it.
                raise PolicyError(r.key_path("codes"), f"unknown exclusion code {code!r}")
        clause = ExclusionsClause(rule, basis, codes)
    elif kind is RepairDeadlineClause:
        clause = RepairDeadlineClause(rule, basis, r.integer("working_days", minimum=1))
    elif kind is ReplacementClause:
        clause = ReplacementClause(rule, basis, r.integer("repairs_before", minimum=1))
    elif kind is FirstSeasonClause:
        clause = FirstSeasonClause(
            rule, basis, r.integer("days", minimum=1), r.integer("repairs_before", minimum=1)
        )
    elif kind is WorkshopGuaranteeClause:
        clause = WorkshopGuaranteeClause(rule, basis, r.integer("months", minimum=0))
    elif kind is ServiceModeClause:
        covered_r = r.sub("covered")
        covered_r.exact_keys(PERIOD_CLASSES)
        not_covered_r = r.sub("not_covered")
        not_covered_r.exact_keys(NOT_COVERED_STATES)
        clause = ServiceModeClause(
            rule,
            basis,
            MappingProxyType({pc: covered_r.choice(pc, SERVICE_MODES) for pc in PERIOD_CLASSES}),
            MappingProxyType({s: not_covered_r.choice(s, SERVICE_MODES) for s in NOT_COVERED_STATES}),
        )
    else:  # pragma: no cover - _CLAUSE_TYPES and this function are edited together
        raise AssertionError(key)
    r.done()
    return clause


def _read_terms(r: _Reader) -> PeriodTerms:
    terms = PeriodTerms(
        whole_machine_months=r.integer("whole_machine_months", minimum=1),
        main_parts_months=r.integer("main_parts_months", minimum=1),
        main_parts_rule=r.rule_id("main_parts_rule", required=False),
    )
    r.done()
    return terms


def _check_parts_disjoint(main: PartListClause, wear: PartListClause) -> None:
    # A part on both lists would be both free for 24 months and always paid; refuse the ambiguity.
    for cat in CATEGORIES:
        both = set(main.by_category[cat]) & set(wear.by_category[cat])
        if both:
            raise PolicyError(
                f"clauses.wear_parts.by_category.{cat}",
                f"also listed as main parts: {', '.join(sorted(both))}",
            )
