"""The 三包 warranty engine: one pure function from facts and a policy to an explained decision.

Why pure. A call agent, a hotline technician, a repair coordinator and a supervisor reviewing a
complaint must all get the same answer for the same machine on the same day, and a decision made
last spring must be reproducible when the customer disputes it. So ``evaluate`` reads nothing but
its arguments: no ORM, no clock, no holiday lookup, no settings. The caller loads the facts (the
machine, its repair records, the calendar) and the regime, and stores what comes back.

Why data. The statutory floor (令第126号, 2010) and the company's commitments on top of it change on
their own timetables and some figures are still unverified, so every period, threshold, part list and
service-mode suggestion lives in a versioned ``Regime`` an administrator can edit (see policy.py).
The engine only knows the *shape* of the rules; the numbers, the lists and the rule ids come from
the regime, and every reason cites the rule id of the clause that produced it.

Why reasons. The customer is owed an explanation, and staff must be able to see which clause of
which regime version made the call (and whether that clause is verified) before telling a farmer
his gearbox is not covered. Texts are kept here in Simplified Chinese and English, with the values
in ``params`` so a UI can render its own wording.

Order of evaluation: the period class (tractor power, host machine), the start (invoice, later
delivery, last exchange), the extension (warranty repair and waiting-for-parts days), the end (Civil
Code counting, holiday roll-forward), the workshop guarantee, each component's part class, the
exclusions, then the remedy ladder (repair < main-part replacement < exchange < return) and the
suggested service mode.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from .dates import FIXED_DATE_HOLIDAYS, add_months, is_rest_day
from .policy import CATEGORIES, ENGINE_CATEGORIES, EXCLUSION_CODES, PeriodTerms, Regime

__all__ = [
    "COVERAGE_STATES",
    "MESSAGES",
    "PART_CLASSES",
    "REMEDIES",
    "REPAIR_KINDS",
    "WHOLE_MACHINE",
    "ComponentCoverage",
    "Coverage",
    "Evaluation",
    "FaultFacts",
    "MachineFacts",
    "Reason",
    "RepairRecord",
    "WholeMachineCoverage",
    "evaluate",
]

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

    def to_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "start": _iso(self.start),
            "end": _iso(self.end),
            "extension_days": self.extension_days,
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


# --- messages ----------------------------------------------------------------------------------

# code -> (Simplified Chinese, English). Placeholders are filled from the reason's params; params
# named in _LABELS are shown through that label table in each language.
MESSAGES: dict[str, tuple[str, str]] = {
    "start_invoice": (
        "三包有效期自发票日期 {start} 起算。",
        "The warranty period starts on the invoice date {start}.",
    ),
    "start_delivery_later": (
        "交付日期 {delivery} 晚于发票日期 {invoice}，按有利于用户的原则自交付日期起算。",
        "Delivery on {delivery} was later than the invoice of {invoice}; the period starts on the later date, in the user's favour.",
    ),
    "start_delivery_only": (
        "无发票日期，三包有效期自交付日期 {start} 起算。",
        "No invoice date is recorded; the period starts on the delivery date {start}.",
    ),
    "no_start_date": (
        "无发票日期和交付日期，无法证明产品在三包有效期内，按有偿服务处理。",
        "Neither an invoice nor a delivery date is recorded, so there is no proof the machine is within its warranty period; paid service.",
    ),
    "restart_after_exchange": (
        "整机已于 {exchange} 更换，三包有效期自更换之日起重新计算。",
        "The whole machine was exchanged on {exchange}; the warranty period restarts from that day.",
    ),
    "host_machine": (
        "发动机作为{host}的配套动力，三包有效期随主机。",
        "The engine is the power unit of a {host}, so it follows the host machine's periods.",
    ),
    "tractor_large": (
        "额定功率 {power} kW 大于 {threshold} kW，按大中型拖拉机计。",
        "Rated power {power} kW is above {threshold} kW: a large tractor.",
    ),
    "tractor_small": (
        "额定功率 {power} kW 不大于 {threshold} kW，按小型拖拉机计。",
        "Rated power {power} kW is not above {threshold} kW: a small tractor.",
    ),
    "tractor_power_unknown": (
        "未记录额定功率，按有利于用户的原则以大于 {threshold} kW 的拖拉机计。",
        "No rated power is recorded; treated as a tractor above {threshold} kW, in the user's favour.",
    ),
    "period_whole_machine": (
        "{period_class}整机三包有效期 {months} 个月。",
        "Whole-machine period for a {period_class}: {months} months.",
    ),
    "period_counting": (
        "起算日 {start} 不计入，期间至到期月的对应日 {nominal_end}（无对应日的为月末日）。",
        "The start day {start} is not counted; the period runs to the same-numbered day of the final month, {nominal_end} (the month's last day if there is none).",
    ),
    "extension": (
        "三包期内修理及等待配件 {days} 天不计入三包有效期，期间顺延。",
        "{days} days in warranty repair or waiting for parts are not counted; the period is extended by them.",
    ),
    "holiday_rollover": (
        "期间最后一日 {last_day} 为法定休假日（公休日或节假日），以休假日结束的次日 {end} 为最后一日。",
        "The last day {last_day} is a rest day (a weekend or a public holiday); the period ends on the first working day after it, {end}.",
    ),
    "calendar_fallback": (
        "{year} 年的放假安排尚未公布，按周六、周日及固定日期节假日（元旦、劳动节、国庆节）推算休假日，公布后可能变化。",
        "No holiday notice for {year} is on file: rest days are taken as Saturdays, Sundays and the fixed-date holidays (New Year's Day, Labour Day, National Day), and may change once the notice is out.",
    ),
    "calendar_provisional": (
        "{year} 年的节假日数据为暂定，待国务院通知公布后核对。",
        "The holiday data for {year} is provisional until the State Council's notice is checked against it.",
    ),
    "whole_machine_not_started": (
        "三包有效期自 {start} 起算，评估日 {on} 尚未开始。",
        "The warranty period starts on {start}; on {on} it has not started yet.",
    ),
    "component_not_started": (
        "{component}（{part}）的三包有效期自 {start} 起算，尚未开始。",
        "{component} ({part}): the warranty period starts on {start} and has not started yet.",
    ),
    "unknown_component": (
        "“{component}”不是已知的部件代码，按一般部件处理；请核对部件名称。",
        "'{component}' is not a known component code; treated as a general part. Check the component.",
    ),
    "workshop_guarantee": (
        "{component} 于 {finished} 完成修理厂修理，享有 {months} 个月质量保证，至 {end}。",
        "{component} was repaired in a workshop, finished {finished}; that repair is guaranteed for {months} months, through {end}.",
    ),
    "whole_machine_covered": (
        "整机在三包有效期内，至 {end}。",
        "The whole machine is within its warranty period, through {end}.",
    ),
    "whole_machine_expired": (
        "整机三包有效期已于 {end} 届满。",
        "The whole machine's warranty period ended on {end}.",
    ),
    "component_covered": (
        "{component}（{part}）在三包有效期内，至 {end}。",
        "{component} ({part}) is within its warranty period, through {end}.",
    ),
    "component_expired": (
        "{component}（{part}）三包有效期已于 {end} 届满。",
        "{component} ({part}): the warranty period ended on {end}.",
    ),
    "component_unknown": (
        "{component}（{part}）无法证明在三包有效期内。",
        "{component} ({part}): no proof that it is within its warranty period.",
    ),
    "main_part_period": (
        "{component} 为主要部件，三包有效期 {months} 个月。",
        "{component} is a main part: {months}-month period.",
    ),
    "wear_part": (
        "{component} 为易损件，不属三包免费范围，按有偿服务处理。",
        "{component} is a wear part, not covered free of charge; paid service.",
    ),
    "excluded": (
        "{target}不实行三包：{exclusion}。",
        "{target} is not covered: {exclusion}.",
    ),
    "burden_of_proof": (
        "不实行三包的情形由销售者、生产者或修理者负责举证。",
        "The seller, maker or repairer bears the burden of proving an exclusion.",
    ),
    "exclusion_not_in_regime": (
        "本政策不将“{exclusion}”列为免责情形，不影响三包。",
        "This policy does not list '{exclusion}' as an exclusion; coverage is unaffected.",
    ),
    "not_covered": (
        "{target}状态为“{state}”，不承担三包责任，按有偿服务处理。",
        "{target} is {state}: no warranty remedy; paid service.",
    ),
    "free_repair": (
        "三包有效期内免费修理，包括工时费、材料费和合理的运输费用。",
        "Free repair within the warranty period: labour, materials and reasonable transport.",
    ),
    "repair_deadline_running": (
        "修理自 {intake} 受理，应在 {working_days} 个工作日内（{deadline} 前）完成。",
        "The repair taken in on {intake} must be finished within {working_days} working days, by {deadline}.",
    ),
    "repair_deadline_passed": (
        "修理自 {intake} 受理，已超过 {working_days} 个工作日（期限 {deadline}），用户可选择继续修理或更换整机。",
        "The repair taken in on {intake} passed the {working_days}-working-day deadline ({deadline}); the user may choose further repair or an exchange.",
    ),
    "main_part_replacement_serious": (
        "{component} 因同一严重质量问题已修理 {count} 次，三包有效期内再次出现，免费更换主要部件。",
        "{component} was repaired {count} times for the same serious problem and it recurs within the period: free main-part replacement.",
    ),
    "main_part_replacement_first_season": (
        "第一个作业季开始（{season_start}）30日内，{component} 因同一一般质量问题已修理 {count} 次后又出现（至 {window_end}），免费更换主要部件。",
        "Within 30 days of the first operating season starting on {season_start} (through {window_end}), {component} was repaired {count} times for the same problem and it recurs: free main-part replacement.",
    ),
    "exchange_after_replacement": (
        "{component} 已于 {replaced} 更换主要部件后仍出现同一问题，予以更换整机。",
        "The problem with {component} recurs after its main part was replaced on {replaced}: whole-machine exchange.",
    ),
    "exchange_on_request": (
        "修理超过期限，用户要求更换，予以更换整机。",
        "The repair deadline has passed and the user asks for an exchange: whole-machine exchange.",
    ),
    "return_after_exchange": (
        "整机已于 {exchanged} 更换后 {component} 仍出现同一问题，予以退货（退还发票价款）。",
        "The problem with {component} recurs after the exchange of {exchanged}: return, refunding the invoice price.",
    ),
    "return_no_same_model": (
        "应予换货但无同型号产品，予以退货（退还发票价款）。",
        "An exchange is due but no machine of the same model is available: return, refunding the invoice price.",
    ),
    "service_mode_covered": (
        "{period_class}在保，建议{mode}。",
        "Covered {period_class}: suggested service mode {mode}.",
    ),
    "service_mode_not_covered": (
        "状态为“{state}”，建议{mode}。",
        "State {state}: suggested service mode {mode}.",
    ),
}

_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "period_class": {
        "tractor_large": ("大中型拖拉机", "large tractor"),
        "tractor_small": ("小型拖拉机", "small tractor"),
        "combine_harvester": ("联合收割机", "combine harvester"),
        "rice_transplanter": ("插秧机", "rice transplanter"),
        "diesel_engine_multi": ("多缸柴油机", "multi-cylinder diesel engine"),
        "diesel_engine_single": ("单缸柴油机", "single-cylinder diesel engine"),
        "implement": ("农机具", "implement"),
        "other": ("其他农业机械", "other agricultural machine"),
    },
    "host": {
        "tractor": ("拖拉机", "tractor"),
        "combine_harvester": ("联合收割机", "combine harvester"),
        "rice_transplanter": ("插秧机", "rice transplanter"),
        "diesel_engine_single": ("单缸柴油机", "single-cylinder diesel engine"),
        "diesel_engine_multi": ("多缸柴油机", "multi-cylinder diesel engine"),
        "implement": ("农机具", "implement"),
        "other": ("其他农业机械", "other agricultural machine"),
    },
    "part": {
        "main": ("主要部件", "main part"),
        "general": ("一般部件", "general part"),
        "wear": ("易损件", "wear part"),
    },
    "state": {
        "covered": ("在保", "covered"),
        "not_started": ("三包期未开始", "not started yet"),
        "expired": ("已过三包期", "expired"),
        "excluded": ("不实行三包", "excluded"),
        "wear_part": ("易损件", "a wear part"),
        "unknown": ("无法证明在保", "without proof of coverage"),
    },
    "mode": {
        "on_site": ("上门服务", "on_site (on-site service)"),
        "carry_in": ("送修", "carry_in (carry-in repair)"),
        "mail_in": ("寄修", "mail_in (mail-in repair)"),
        "paid": ("有偿服务", "paid (paid service)"),
        "phone": ("电话应答", "phone (answered by phone)"),
    },
    "exclusion": {
        "no_proof": ("无法证明在三包有效期内", "no proof that it is within the warranty period"),
        "misuse": ("未按使用说明书要求使用、维护、保养", "used, serviced or maintained against the manual"),
        "modification": ("擅自改装、拆卸", "modified or dismantled without authorisation"),
        "improper_handling": (
            "发生故障后处置不当，致使无法判定故障原因",
            "handled wrongly after the fault, so the cause cannot be determined",
        ),
        "man_made_damage": ("人为损坏", "man-made damage"),
        "force_majeure": ("不可抗力", "force majeure"),
    },
}

# Component names are codes; these stand in for "the machine" where a reason names its target.
_WHOLE_MACHINE_LABEL = ("整机", "The whole machine")


class _Explainer:
    """Collects reasons; fills each text from the message table in both languages."""

    def __init__(self) -> None:
        self.reasons: list[Reason] = []

    def add(self, rule: str, code: str, **params: Any) -> None:
        zh, en = MESSAGES[code]
        safe = {k: _json_safe(v) for k, v in params.items()}
        self.reasons.append(
            Reason(
                rule=rule,
                code=code,
                text_zh=zh.format(**self._localise(safe, 0)),
                text_en=en.format(**self._localise(safe, 1)),
                params=safe,
            )
        )

    @staticmethod
    def _localise(params: Mapping[str, Any], lang: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in params.items():
            table = _LABELS.get(key)
            if table is not None and value in table:
                out[key] = table[value][lang]
            elif key in ("component", "target") and value == WHOLE_MACHINE:
                out[key] = _WHOLE_MACHINE_LABEL[lang]
            else:
                out[key] = value
        return out


class _Calendar:
    """Rest days as Civil Code Art. 203 counts them, from the calendar the caller passed in.

    ``years`` maps each year the holiday data knows to its status ("official" from the State
    Council's notice, or "provisional"). A year missing from it has no notice yet: its rest days are
    the weekends and the fixed-date holidays. ``None`` means the caller vouches for ``holidays`` and
    ``workdays`` as complete (the pure tests). Every year consulted that is not official is noted,
    so the answer can say on what calendar its dates rest.
    """

    def __init__(self, holidays: Set[date], workdays: Set[date], years: Mapping[int, str] | None) -> None:
        self.holidays, self.workdays, self.years = holidays, workdays, years
        self.uncertain: dict[int, str] = {}

    def is_rest(self, day: date) -> bool:
        if self.years is not None:
            status = self.years.get(day.year)
            if status is None:
                self.uncertain[day.year] = "calendar_fallback"
                return day.weekday() >= 5 or (day.month, day.day) in FIXED_DATE_HOLIDAYS
            if status != "official":
                self.uncertain.setdefault(day.year, "calendar_provisional")
        return is_rest_day(day, self.holidays, self.workdays)

    def roll(self, day: date) -> date:
        """Art. 203: a last day that is a rest day moves to the first working day after it."""
        while self.is_rest(day):
            day += timedelta(days=1)
        return day

    def add_working_days(self, start: date, n: int) -> date:
        """The ``n``-th working day after ``start`` (the start day is not counted, Art. 201)."""
        day = start
        while n:
            day += timedelta(days=1)
            if not self.is_rest(day):
                n -= 1
        return day

    def explain(self, regime: Regime, why: _Explainer) -> None:
        for year, code in sorted(self.uncertain.items()):
            why.add(regime.rule("holiday_rollover"), code, year=year)


# --- the engine --------------------------------------------------------------------------------


def evaluate(
    *,
    machine: MachineFacts,
    on: date,
    regime: Regime,
    components: Sequence[str] = (),
    repairs: Sequence[RepairRecord] = (),
    fault: FaultFacts | None = None,
    holidays: frozenset[date] = frozenset(),
    workdays: frozenset[date] = frozenset(),
    calendar_years: Mapping[int, str] | None = None,
    known_components: Set[str] | None = None,
) -> Evaluation:
    """Evaluate the warranty of ``machine`` as of ``on`` under ``regime``.

    ``holidays`` are statutory holidays and ``workdays`` the 调休 weekend days worked; with the
    weekends they make the rest days of Civil Code Art. 203 (the period end roll-forward) and the
    working days of the repair deadline. ``calendar_years`` says which years that data covers and
    how surely (see ``_Calendar``). ``known_components``: the component vocabulary; a component
    outside it (and outside the machine's own part lists) is answered with an ``unknown_component``
    reason. Records dated after ``on`` are ignored, so re-running an old evaluation with today's
    full history gives the old answer.
    """
    _check_facts(machine, repairs, fault)
    why = _Explainer()
    cal = _Calendar(holidays, workdays, calendar_years)
    repairs = [r for r in repairs if r.started <= on]

    period_class = _period_class(machine, regime, why)
    terms = regime.periods.by_class[period_class]

    start, restart = _start(machine, repairs, on, regime, why)
    # Records from before the last exchange are about the machine that was taken back.
    current = [r for r in repairs if restart is None or r.started >= restart]

    extension = _extension_days(current, start, on)
    whole = _whole_machine(start, period_class, terms.whole_machine_months, extension, on, regime, cal, why)
    whole = _apply_workshop(whole, WHOLE_MACHINE, current, on, regime, cal, why)

    # The machine's own category, not the host's: an engine's main parts are its crankshaft and
    # block even when it follows a combine's periods.
    main_parts = set(_or_default(machine.main_parts, regime.main_parts.by_category[machine.category]))
    wear_parts = set(_or_default(machine.wear_parts, regime.wear_parts.by_category[machine.category]))

    names = [c for c in components if c != WHOLE_MACHINE]
    if fault is not None and fault.component and fault.component != WHOLE_MACHINE:
        names.append(fault.component)
    names = list(dict.fromkeys(names))  # de-duplicated, order kept for a stable display

    comp: dict[str, ComponentCoverage] = {}
    for name in names:
        part = "wear" if name in wear_parts else "main" if name in main_parts else "general"
        if known_components is not None and part == "general" and name not in known_components:
            # A free-text part (a record typed by hand, an old import): say so rather than
            # silently shorten a main part's cover to the whole machine's.
            why.add(regime.main_parts.rule, "unknown_component", component=name)
        comp[name] = _component(
            name, part, whole, start, terms, extension, current, on, regime, cal, why
        )

    target = fault.component if fault is not None and fault.component not in (None, WHOLE_MACHINE) else None
    if fault is not None:
        whole, comp = _apply_exclusions(fault, target, whole, comp, regime, why)

    target_cov = comp[target] if target is not None else whole
    remedy = "none"
    if fault is not None:
        remedy = _remedy(
            fault=fault,
            target=target,
            target_state=target_cov.state,
            target_rule=target_cov.rule,
            part=comp[target].part if target is not None else "general",
            machine=machine,
            current=current,
            repairs=repairs,
            on=on,
            regime=regime,
            cal=cal,
            why=why,
        )

    mode = _service_mode(target_cov.state, period_class, regime, why)
    cal.explain(regime, why)

    return Evaluation(
        coverage=Coverage(whole_machine=whole, components=comp),
        remedy=remedy,
        service_mode=mode,
        reasons=tuple(why.reasons),
        policy={"name": regime.name, "version": regime.version},
    )


# --- steps -------------------------------------------------------------------------------------


def _period_class(machine: MachineFacts, regime: Regime, why: _Explainer) -> str:
    category = machine.category
    if category in ENGINE_CATEGORIES and machine.host_category and machine.host_category != category:
        why.add(regime.rule("host_machine"), "host_machine", host=machine.host_category)
        category = machine.host_category
    if category != "tractor":
        return category
    threshold = regime.periods.tractor_power_threshold_kw
    rule = regime.rule("periods")
    power = _decimal_or_none(machine.rated_power_kw)
    if power is None:
        # Guessing small would shorten the user's cover on a gap in our own records.
        why.add(rule, "tractor_power_unknown", threshold=threshold)
        return "tractor_large"
    if power > threshold:
        why.add(rule, "tractor_large", power=power, threshold=threshold)
        return "tractor_large"
    why.add(rule, "tractor_small", power=power, threshold=threshold)
    return "tractor_small"


def _start(
    machine: MachineFacts, repairs: Sequence[RepairRecord], on: date, regime: Regime, why: _Explainer
) -> tuple[date | None, date | None]:
    """(start of the current periods, date of the exchange that restarted them if any)."""
    invoice, delivery = machine.invoice_date, machine.delivery_date
    base: date | None
    if invoice is not None and delivery is not None and delivery > invoice:
        base = delivery
        why.add(regime.rule("delivery_start"), "start_delivery_later", invoice=invoice, delivery=delivery)
    elif invoice is not None:
        base = invoice
        why.add(regime.rule("start"), "start_invoice", start=invoice)
    elif delivery is not None:
        base = delivery
        why.add(regime.rule("delivery_start"), "start_delivery_only", start=delivery)
    else:
        base = None

    # An exchange may be known from the machine file, from the repair record, or both.
    exchange_dates = [d for d in machine.exchanges if d <= on]
    exchange_dates += [r.done_on for r in repairs if r.kind == "exchange" and r.done_on <= on]
    restart = max(exchange_dates, default=None)
    if restart is not None and (base is None or restart >= base):
        why.add(regime.rule("exchange_restart"), "restart_after_exchange", exchange=restart)
        return restart, restart
    if base is None:
        why.add(regime.rule("start"), "no_start_date")
    return base, None


def _extension_days(current: Sequence[RepairRecord], start: date | None, on: date) -> int:
    if start is None:
        return 0
    total = 0
    for r in current:
        if not r.under_warranty or r.kind == "exchange" or r.started < start:
            continue
        # An open repair has cost the user every day up to today.
        until = min(r.finished or on, on)
        # Civil Code counting: the day the machine came in is not counted (Art. 201), so a repair
        # finished the same day extends nothing.
        total += max((until - r.started).days, 0) + r.days_waiting_parts
    return total


def _end(
    start: date,
    months: int,
    extension: int,
    regime: Regime,
    cal: _Calendar,
    why: _Explainer,
    *,
    explain_counting: bool = True,
) -> date:
    nominal = add_months(start, months)
    extended = nominal + timedelta(days=extension)
    end = cal.roll(extended)
    # Counting and extension are the same for every period of the machine: said once, for the
    # whole machine. A holiday roll depends on the particular end date, so it is said each time.
    if explain_counting:
        why.add(regime.rule("counting"), "period_counting", start=start, nominal_end=nominal)
        if extension:
            why.add(regime.rule("extension"), "extension", days=extension)
    if end != extended:
        why.add(regime.rule("holiday_rollover"), "holiday_rollover", last_day=extended, end=end)
    return end


def _whole_machine(
    start: date | None,
    period_class: str,
    months: int,
    extension: int,
    on: date,
    regime: Regime,
    cal: _Calendar,
    why: _Explainer,
) -> WholeMachineCoverage:
    rule = regime.rule("periods")
    if start is None:
        return WholeMachineCoverage("unknown", None, None, 0, regime.rule("start"))
    why.add(rule, "period_whole_machine", period_class=period_class, months=months)
    end = _end(start, months, extension, regime, cal, why)
    if on < start:
        # Before the sale (a dealer's stock, a date typed wrong): not "covered", which would
        # promise free service on a machine nobody has bought yet, and not "expired" either.
        why.add(regime.rule("start"), "whole_machine_not_started", start=start, on=on)
        return WholeMachineCoverage("not_started", start, end, extension, regime.rule("start"))
    state = "covered" if on <= end else "expired"
    why.add(rule, f"whole_machine_{state}", end=end)
    return WholeMachineCoverage(state, start, end, extension, rule)


def _workshop_end(
    component: str, current: Sequence[RepairRecord], on: date, regime: Regime, cal: _Calendar
) -> tuple[date, RepairRecord] | None:
    best: tuple[date, RepairRecord] | None = None
    months = regime.workshop_guarantee.months
    for r in current:
        if not r.workshop or r.component != component or r.finished is None or r.finished > on:
            continue
        end = cal.roll(add_months(r.finished, months))
        if best is None or end > best[0]:
            best = (end, r)
    return best


def _apply_workshop(
    whole: WholeMachineCoverage,
    component: str,
    current: Sequence[RepairRecord],
    on: date,
    regime: Regime,
    cal: _Calendar,
    why: _Explainer,
) -> WholeMachineCoverage:
    if whole.state == "not_started":
        return whole
    found = _workshop_end(component, current, on, regime, cal)
    if found is None or (whole.end is not None and found[0] <= whole.end):
        return whole
    end, record = found
    if whole.end is None and on > end:
        # A lapsed workshop guarantee says nothing about the unproven sale date; stay "unknown".
        return whole
    rule = regime.rule("workshop_guarantee")
    why.add(
        rule,
        "workshop_guarantee",
        component=component,
        finished=record.finished,
        months=regime.workshop_guarantee.months,
        end=end,
    )
    if on <= end:
        return WholeMachineCoverage("covered", whole.start, end, whole.extension_days, rule)
    return WholeMachineCoverage(whole.state, whole.start, end, whole.extension_days, whole.rule)


def _component(
    name: str,
    part: str,
    whole: WholeMachineCoverage,
    start: date | None,
    terms: PeriodTerms,
    extension: int,
    current: Sequence[RepairRecord],
    on: date,
    regime: Regime,
    cal: _Calendar,
    why: _Explainer,
) -> ComponentCoverage:
    if part == "wear":
        rule = regime.wear_parts.rule
        why.add(rule, "wear_part", component=name)
        return ComponentCoverage("wear_part", None, rule, part)

    # A part is never covered for less than the machine it is part of: general parts follow the
    # whole machine (and a whole-machine workshop guarantee), main parts get the longer of the two.
    end, rule = whole.end, whole.rule
    if part == "main" and start is not None:
        months = terms.main_parts_months
        main_rule = terms.main_parts_rule or regime.rule("periods")
        why.add(main_rule, "main_part_period", component=name, months=months)
        main_end = _end(start, months, extension, regime, cal, why, explain_counting=False)
        if end is None or main_end >= end:
            end, rule = main_end, main_rule

    if whole.state == "not_started":
        why.add(regime.rule("start"), "component_not_started", component=name, part=part, start=start)
        return ComponentCoverage("not_started", end, regime.rule("start"), part)

    found = _workshop_end(name, current, on, regime, cal)
    lapsed_over_unknown = found is not None and end is None and on > found[0]
    if found is not None and not lapsed_over_unknown and (end is None or found[0] > end):
        ws_end, record = found
        rule = regime.rule("workshop_guarantee")
        why.add(
            rule,
            "workshop_guarantee",
            component=name,
            finished=record.finished,
            months=regime.workshop_guarantee.months,
            end=ws_end,
        )
        end = ws_end

    if end is None:
        why.add(regime.rule("start"), "component_unknown", component=name, part=part)
        return ComponentCoverage("unknown", None, regime.rule("start"), part)
    state = "covered" if on <= end else "expired"
    why.add(rule, f"component_{state}", component=name, part=part, end=end)
    return ComponentCoverage(state, end, rule, part)


def _apply_exclusions(
    fault: FaultFacts,
    target: str | None,
    whole: WholeMachineCoverage,
    comp: dict[str, ComponentCoverage],
    regime: Regime,
    why: _Explainer,
) -> tuple[WholeMachineCoverage, dict[str, ComponentCoverage]]:
    rule = regime.exclusions.rule
    applied = [c for c in EXCLUSION_CODES if c in fault.exclusions and c in regime.exclusions.codes]
    for code in EXCLUSION_CODES:
        if code in fault.exclusions and code not in regime.exclusions.codes:
            why.add(rule, "exclusion_not_in_regime", exclusion=code)
    if not applied:
        return whole, comp
    for code in applied:
        why.add(rule, "excluded", target=target or WHOLE_MACHINE, exclusion=code)
    why.add(regime.rule("burden_of_proof"), "burden_of_proof")

    # Only what is covered can be excluded: an expired or wear part stays what it is, which is
    # the more basic answer and the one that survives if the exclusion is later disproved.
    comp = dict(comp)
    if target is not None:
        c = comp[target]
        if c.state == "covered":
            comp[target] = ComponentCoverage("excluded", c.end, rule, c.part)
        return whole, comp
    if whole.state == "covered":
        whole = WholeMachineCoverage("excluded", whole.start, whole.end, whole.extension_days, rule)
    for name, c in comp.items():
        if c.state == "covered":
            comp[name] = ComponentCoverage("excluded", c.end, rule, c.part)
    return whole, comp


def _remedy(
    *,
    fault: FaultFacts,
    target: str | None,
    target_state: str,
    target_rule: str,
    part: str,
    machine: MachineFacts,
    current: Sequence[RepairRecord],
    repairs: Sequence[RepairRecord],
    on: date,
    regime: Regime,
    cal: _Calendar,
    why: _Explainer,
) -> str:
    key = target or WHOLE_MACHINE
    if target_state != "covered":
        why.add(target_rule, "not_covered", target=key, state=target_state)
        return "none"
    why.add(regime.rule("free_repair"), "free_repair")

    same = [r for r in repairs if r.component == key]

    # 1. Recurs after an exchange for this problem: return. Searched in the full history, since the
    #    exchange itself is what restarted the periods.
    exchanged = [r for r in same if r.kind == "exchange" and r.done_on <= on]
    if exchanged:
        last = max(exchanged, key=lambda r: r.done_on)
        why.add(regime.rule("return"), "return_after_exchange", component=key, exchanged=last.done_on)
        return "return"

    # 2. Exchange: recurs after a main-part replacement, or the repair deadline passed and the user
    #    asks for it.
    exchange_due = False
    # Only a main part's replacement is the step before an exchange; replacing a general part is an
    # ordinary repair (counted below). An open replacement is not yet one that the fault outlived.
    replaced = [r for r in current if r.component == key and r.kind == "main_part_replacement"
                and r.finished is not None and part == "main"]
    if replaced:
        last = max(replaced, key=lambda r: r.done_on)
        why.add(regime.rule("exchange"), "exchange_after_replacement", component=key, replaced=last.done_on)
        exchange_due = True

    # The repair deadline runs from the intake of the repair now open: the one the caller names, or
    # else the earliest open repair of this component in the record.
    intake = fault.repair_intake_date
    if intake is None:
        intake = min((r.started for r in current if r.component == key and r.finished is None
                      and r.kind != "exchange"), default=None)
    if intake is not None:
        wd = regime.repair_deadline.working_days
        deadline = cal.add_working_days(intake, wd)
        params = {"intake": intake, "working_days": wd, "deadline": deadline}
        if on > deadline:
            why.add(regime.rule("repair_deadline"), "repair_deadline_passed", **params)
            if fault.customer_requests_exchange and not exchange_due:
                why.add(regime.rule("exchange"), "exchange_on_request")
                exchange_due = True
        else:
            why.add(regime.rule("repair_deadline"), "repair_deadline_running", **params)

    if exchange_due:
        if not fault.same_model_available:
            why.add(regime.rule("return"), "return_no_same_model")
            return "return"
        return "exchange"

    # 3. Main-part replacement.
    # The earlier repairs: finished ones (an open repair is the one being done now).
    warranty_repairs = [
        r for r in current
        if r.component == key and r.under_warranty and r.finished is not None
        and (r.kind == "repair" or (r.kind == "main_part_replacement" and part != "main"))
    ]
    mpr = regime.main_part_replacement
    if fault.serious and part == "main":
        serious = [r for r in warranty_repairs if r.serious]
        if len(serious) >= mpr.repairs_before:
            why.add(mpr.rule, "main_part_replacement_serious", component=key, count=len(serious))
            return "main_part_replacement"

    fs = regime.first_season
    season = machine.first_season_start
    if season is not None and part != "wear":
        window_end = cal.roll(season + timedelta(days=fs.days))
        if season <= on <= window_end:
            in_window = [r for r in warranty_repairs if season <= r.started <= window_end]
            if len(in_window) >= fs.repairs_before:
                why.add(
                    fs.rule,
                    "main_part_replacement_first_season",
                    component=key,
                    count=len(in_window),
                    season_start=season,
                    window_end=window_end,
                )
                return "main_part_replacement"

    return "repair"


def _service_mode(state: str, period_class: str, regime: Regime, why: _Explainer) -> str:
    sm = regime.service_mode
    if state == "covered":
        mode = sm.covered[period_class]
        why.add(sm.rule, "service_mode_covered", period_class=period_class, mode=mode)
    else:
        # A machine whose period has not started is served as one without proof of cover: the
        # regime's table predates the state, and stored versions must keep loading.
        mode = sm.not_covered.get(state) or sm.not_covered["unknown"]
        why.add(sm.rule, "service_mode_not_covered", state=state, mode=mode)
    return mode


# --- helpers -----------------------------------------------------------------------------------


def _check_facts(machine: MachineFacts, repairs: Sequence[RepairRecord], fault: FaultFacts | None) -> None:
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
