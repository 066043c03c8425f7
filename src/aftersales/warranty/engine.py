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
from datetime import date, timedelta

from .dates import FIXED_DATE_HOLIDAYS, add_months, is_rest_day
from .extension import _extension_days
# The facts and the decision (facts.py) and the reasons' texts (messages.py) live in rooms of their
# own; their public names are the engine's and stay importable from here.
from .facts import (  # noqa: F401
    COVERAGE_STATES,
    PART_CLASSES,
    REMEDIES,
    REPAIR_KINDS,
    WHOLE_MACHINE,
    ComponentCoverage,
    Coverage,
    Evaluation,
    FaultFacts,
    MachineFacts,
    PartsWait,
    Reason,
    RepairRecord,
    WholeMachineCoverage,
    _check_facts,
    _decimal_or_none,
    _or_default,
)
from .messages import MESSAGES, _Explainer  # noqa: F401
from .policy import ENGINE_CATEGORIES, EXCLUSION_CODES, PeriodTerms, Regime

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
    "PartsWait",
    "Reason",
    "RepairRecord",
    "WholeMachineCoverage",
    "evaluate",
]


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
    waits: Sequence[PartsWait] = (),
) -> Evaluation:
    """Evaluate the warranty of ``machine`` as of ``on`` under ``regime``.

    ``holidays`` are statutory holidays and ``workdays`` the 调休 weekend days worked; with the
    weekends they make the rest days of Civil Code Art. 203 (the period end roll-forward) and the
    working days of the repair deadline. ``calendar_years`` says which years that data covers and
    how surely (see ``_Calendar``). ``known_components``: the component vocabulary; a component
    outside it (and outside the machine's own part lists) is answered with an ``unknown_component``
    reason. Records dated after ``on`` are ignored, so re-running an old evaluation with today's
    full history gives the old answer. ``waits``: the days the machine waited for parts (待件), which
    extend the periods like repair days (counted once where the two overlap).
    """
    _check_facts(machine, repairs, fault, waits)
    why = _Explainer()
    cal = _Calendar(holidays, workdays, calendar_years)
    repairs = [r for r in repairs if r.started <= on]
    waits = [w for w in waits if w.started <= on]

    period_class = _period_class(machine, regime, why)
    terms = regime.periods.by_class[period_class]

    start, restart = _start(machine, repairs, on, regime, why)
    # Records from before the last exchange are about the machine that was taken back.
    current = [r for r in repairs if restart is None or r.started >= restart]
    current_waits = [w for w in waits if restart is None or w.started >= restart]

    extension, waited = _extension_days(current, current_waits, start, on)
    whole = _whole_machine(start, period_class, terms.whole_machine_months, extension, on, regime, cal, why, waited)
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


def _end(
    start: date,
    months: int,
    extension: int,
    regime: Regime,
    cal: _Calendar,
    why: _Explainer,
    *,
    explain_counting: bool = True,
    waited: tuple[int, tuple[str, ...]] = (0, ()),
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
        if waited[0]:
            why.add(regime.rule("extension"), "extension_parts_wait", days=waited[0],
                    references="、".join(waited[1]) or "—")
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
    waited: tuple[int, tuple[str, ...]] = (0, ()),
) -> WholeMachineCoverage:
    rule = regime.rule("periods")
    if start is None:
        return WholeMachineCoverage("unknown", None, None, 0, regime.rule("start"))
    why.add(rule, "period_whole_machine", period_class=period_class, months=months)
    end = _end(start, months, extension, regime, cal, why, waited=waited)
    wait_days = waited[0]
    if on < start:
        # Before the sale (a dealer's stock, a date typed wrong): not "covered", which would
        # promise free service on a machine nobody has bought yet, and not "expired" either.
        why.add(regime.rule("start"), "whole_machine_not_started", start=start, on=on)
        return WholeMachineCoverage("not_started", start, end, extension, regime.rule("start"), wait_days)
    state = "covered" if on <= end else "expired"
    why.add(rule, f"whole_machine_{state}", end=end)
    return WholeMachineCoverage(state, start, end, extension, rule, wait_days)


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
        return WholeMachineCoverage("covered", whole.start, end, whole.extension_days, rule, whole.parts_wait_days)
    return WholeMachineCoverage(whole.state, whole.start, end, whole.extension_days, whole.rule, whole.parts_wait_days)


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
        whole = WholeMachineCoverage("excluded", whole.start, whole.end, whole.extension_days, rule,
                                     whole.parts_wait_days)
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
