"""The warranty engine, one table row per clause of docs/warranty.md.

Plain pytest, no Django: the engine is pure and must stay testable without a project.
Each row names the machine, the day, the history and the fault, and what a service manager would
expect to be told. Dates are picked so that the day before/after a boundary tells the rules apart.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from aftersales.warranty.dates import add_months, add_working_days, is_working_day, period_end
from aftersales.warranty.engine import (
    WHOLE_MACHINE,
    Evaluation,
    FaultFacts,
    MachineFacts,
    PartsWait,
    RepairRecord,
    evaluate,
)
from aftersales.warranty.policy import PolicyError, Regime, default_regime

D = date.fromisoformat
REGIME = default_regime()

# A made-up Golden Week for the tests: the engine takes whatever calendar it is given.
GOLDEN_WEEK_2026 = frozenset(D("2026-10-01") + timedelta(days=i) for i in range(7))
TIAOXIU_2026 = frozenset({D("2026-10-10")})  # a Saturday worked in exchange


def tractor(power: str = "50", invoice: str | None = "2026-03-01", **kw: Any) -> MachineFacts:
    return MachineFacts(
        category="tractor",
        rated_power_kw=Decimal(power) if power is not None else None,
        invoice_date=D(invoice) if invoice else None,
        **kw,
    )


def machine(category: str, invoice: str, **kw: Any) -> MachineFacts:
    return MachineFacts(category=category, invoice_date=D(invoice), **kw)


def repair(component: str, started: str, finished: str | None, **kw: Any) -> RepairRecord:
    return RepairRecord(
        component=component, started=D(started), finished=D(finished) if finished else None, **kw
    )


@dataclass
class Case:
    id: str
    machine: MachineFacts
    on: str
    components: tuple[str, ...] = ()
    repairs: tuple[RepairRecord, ...] = ()
    fault: FaultFacts | None = None
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    # expectations; None means "not checked in this row"
    wm: str | None = None
    wm_end: str | None = None
    start: str | None = None
    ext: int | None = None
    comp: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    remedy: str | None = None
    mode: str | None = None
    rules: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    not_codes: tuple[str, ...] = ()


GEARBOX_FAULT = FaultFacts(component="gearbox")
SERIOUS_GEARBOX = FaultFacts(component="gearbox", serious=True)
TWO_SERIOUS_GEARBOX_REPAIRS = (
    repair("gearbox", "2026-05-10", "2026-05-12", serious=True),
    repair("gearbox", "2026-07-01", "2026-07-03", serious=True),
)

CASES: list[Case] = [
    # --- periods by category: last covered day and the day after -----------------------------
    Case("tractor-large-last-day", tractor(), "2027-03-01", fault=FaultFacts(),
         wm="covered", wm_end="2027-03-01", start="2026-03-01", ext=0, remedy="repair", mode="on_site",
         rules=("CN2010-Art24", "CN2010-Annex", "CivilCode-Art201-202", "CN2010-FreeRepair", "Company-ServiceMode")),
    Case("tractor-large-day-after", tractor(), "2027-03-02", fault=FaultFacts(),
         wm="expired", wm_end="2027-03-01", remedy="none", mode="paid", codes=("whole_machine_expired", "not_covered")),
    Case("tractor-small-last-day", tractor("10"), "2026-12-01",
         wm="covered", wm_end="2026-12-01", mode="carry_in"),
    Case("tractor-small-day-after", tractor("10"), "2026-12-02", wm="expired", mode="paid"),
    Case("combine-last-day", machine("combine_harvester", "2026-05-14"), "2027-05-14",
         wm="covered", wm_end="2027-05-14", mode="on_site"),
    Case("combine-day-after", machine("combine_harvester", "2026-05-14"), "2027-05-15", wm="expired", mode="paid"),
    Case("transplanter-last-day", machine("rice_transplanter", "2026-04-20"), "2027-04-20",
         wm="covered", wm_end="2027-04-20", mode="on_site"),
    Case("transplanter-day-after", machine("rice_transplanter", "2026-04-20"), "2027-04-21", wm="expired"),
    Case("engine-multi-last-day", machine("diesel_engine_multi", "2026-01-11"), "2027-01-11",
         wm="covered", wm_end="2027-01-11", mode="on_site"),
    Case("engine-multi-day-after", machine("diesel_engine_multi", "2026-01-11"), "2027-01-12", wm="expired"),
    Case("engine-single-last-day", machine("diesel_engine_single", "2026-01-12"), "2026-10-12",
         wm="covered", wm_end="2026-10-12", mode="carry_in"),
    Case("engine-single-day-after", machine("diesel_engine_single", "2026-01-12"), "2026-10-13",
         wm="expired", mode="paid"),
    Case("implement-last-day", machine("implement", "2026-02-01"), "2027-02-01",
         wm="covered", wm_end="2027-02-01", mode="carry_in"),
    Case("implement-day-after", machine("implement", "2026-02-01"), "2027-02-02", wm="expired"),
    Case("other-last-day", machine("other", "2026-06-30"), "2027-06-30", wm="covered", wm_end="2027-06-30"),
    Case("other-day-after", machine("other", "2026-06-30"), "2027-07-01", wm="expired"),
    # --- main parts outlive the whole machine --------------------------------------------------
    Case("main-part-large-tractor-last-day", tractor(), "2028-03-01", fault=GEARBOX_FAULT,
         wm="expired", comp={"gearbox": ("covered", "2028-03-01")}, remedy="repair", mode="on_site"),
    Case("main-part-large-tractor-day-after", tractor(), "2028-03-02", fault=GEARBOX_FAULT,
         comp={"gearbox": ("expired", "2028-03-01")}, remedy="none", mode="paid"),
    Case("main-part-small-tractor-18-months", tractor("15"), "2027-09-02", components=("gearbox", "seat"),
         comp={"gearbox": ("expired", "2027-09-01"), "seat": ("expired", "2026-12-01")}),
    Case("general-part-follows-whole-machine", tractor(), "2027-03-02", components=("seat",),
         comp={"seat": ("expired", "2027-03-01")}),
    Case("implement-main-part-company-period", machine("implement", "2026-02-01"), "2027-02-01",
         components=("rotor_shaft",), comp={"rotor_shaft": ("covered", "2027-02-01")},
         rules=("Company-MainPartsPeriod",)),
    Case("model-overrides-main-parts", tractor(main_parts=("seat",)), "2027-06-01", components=("seat", "gearbox"),
         comp={"seat": ("covered", "2028-03-01"), "gearbox": ("expired", "2027-03-01")}),
    # --- month-end clamping and leap years -----------------------------------------------------
    # Civil Code Art. 202 clamps to 28 February 2027, a Sunday; Art. 203 then rolls the end to Monday.
    Case("month-end-clamped-to-feb-28", tractor("10", invoice="2026-05-31"), "2027-03-01",
         wm="covered", wm_end="2027-03-01", codes=("holiday_rollover",)),
    Case("month-end-clamped-day-after", tractor("10", invoice="2026-05-31"), "2027-03-02", wm="expired"),
    Case("leap-year-feb-29-exists", tractor("10", invoice="2027-05-31"), "2028-02-29",
         wm="covered", wm_end="2028-02-29"),
    Case("leap-year-same-day-not-29", tractor(invoice="2027-02-28"), "2028-02-29",
         wm="expired", wm_end="2028-02-28"),
    Case("from-feb-29-to-feb-28", tractor(invoice="2028-02-29"), "2029-02-28", wm="covered", wm_end="2029-02-28"),
    # --- start: invoice vs delivery ------------------------------------------------------------
    Case("later-delivery-starts-period", tractor(delivery_date=D("2026-03-19")), "2027-03-19",
         wm="covered", start="2026-03-19", wm_end="2027-03-19", rules=("Company-DeliveryStart",),
         not_codes=("start_invoice",)),
    Case("later-delivery-day-after", tractor(delivery_date=D("2026-03-19")), "2027-03-20", wm="expired"),
    Case("earlier-delivery-ignored", tractor(delivery_date=D("2026-02-20")), "2027-03-02",
         wm="expired", start="2026-03-01", codes=("start_invoice",), not_codes=("start_delivery_later",)),
    Case("delivery-only", tractor(invoice=None, delivery_date=D("2026-04-01")), "2027-04-01",
         wm="covered", start="2026-04-01", codes=("start_delivery_only",)),
    # --- extensions ----------------------------------------------------------------------------
    Case("extension-by-repair-days", tractor(), "2027-03-11",
         repairs=(repair("hydraulic_lift", "2026-06-01", "2026-06-11"),),
         wm="covered", ext=10, wm_end="2027-03-11", rules=("CN2010-Extension",)),
    Case("extension-by-repair-days-day-after", tractor(), "2027-03-12",
         repairs=(repair("hydraulic_lift", "2026-06-01", "2026-06-11"),), wm="expired"),
    Case("extension-by-waiting-for-parts", tractor(), "2027-03-09",
         repairs=(repair("gearbox", "2026-06-01", "2026-06-04", days_waiting_parts=5),),
         wm="covered", ext=8, wm_end="2027-03-09", comp={}),
    Case("extension-also-for-main-parts", tractor(), "2028-03-09", components=("gearbox",),
         repairs=(repair("gearbox", "2026-06-01", "2026-06-04", days_waiting_parts=5),),
         comp={"gearbox": ("covered", "2028-03-09")}),
    Case("paid-repair-does-not-extend", tractor(), "2027-03-02",
         repairs=(repair("seat", "2026-06-01", "2026-06-20", under_warranty=False),),
         wm="expired", ext=0, not_codes=("extension",)),
    Case("open-repair-extends-to-today", tractor(), "2027-03-05",
         repairs=(repair("gearbox", "2027-02-20", None),),
         wm="covered", ext=13, wm_end="2027-03-15"),  # 03-14 is a Sunday (Art. 203)
    Case("future-record-ignored", tractor(), "2026-06-01",
         repairs=(repair("gearbox", "2026-07-01", "2026-07-20"),), ext=0, wm_end="2027-03-01"),
    # --- exchange restarts the periods ---------------------------------------------------------
    Case("exchange-restarts", tractor(exchanges=(D("2026-09-10"),)), "2027-09-10",
         wm="covered", start="2026-09-10", wm_end="2027-09-10", rules=("CN2010-ExchangeRestart",)),
    Case("exchange-restart-day-after", tractor(exchanges=(D("2026-05-01"), D("2026-09-10"))), "2027-09-11",
         wm="expired", start="2026-09-10"),
    Case("repairs-before-exchange-do-not-extend", tractor(exchanges=(D("2026-09-10"),)), "2027-09-11",
         repairs=(repair("gearbox", "2026-06-01", "2026-06-30"),), wm="expired", ext=0),
    # --- wear parts ----------------------------------------------------------------------------
    Case("wear-part-paid", tractor(), "2026-06-01", fault=FaultFacts(component="belt"),
         wm="covered", comp={"belt": ("wear_part", None)}, remedy="none", mode="paid",
         rules=("CN2010-WearParts",)),
    Case("model-overrides-wear-parts", tractor(wear_parts=("seat",)), "2026-06-01", fault=FaultFacts(component="seat"),
         comp={"seat": ("wear_part", None)}, remedy="none", mode="paid"),
    # --- exclusions, each code -----------------------------------------------------------------
    *[
        Case(f"exclusion-{code}", tractor(), "2026-06-01",
             fault=FaultFacts(component="gearbox", exclusions=frozenset({code})),
             wm="covered", comp={"gearbox": ("excluded", "2028-03-01")}, remedy="none", mode="paid",
             rules=("CN2010-Exclusions", "CN2010-BurdenOfProof"), codes=("excluded", "burden_of_proof"))
        for code in ("no_proof", "misuse", "modification", "improper_handling", "man_made_damage", "force_majeure")
    ],
    Case("exclusion-whole-machine", tractor(), "2026-06-01", components=("seat", "belt"),
         fault=FaultFacts(exclusions=frozenset({"misuse"})),
         wm="excluded", comp={"seat": ("excluded", "2027-03-01"), "belt": ("wear_part", None)},
         remedy="none", mode="paid"),
    Case("exclusion-only-affected-part", tractor(), "2026-06-01", components=("seat",),
         fault=FaultFacts(component="gearbox", exclusions=frozenset({"modification"})),
         wm="covered", comp={"seat": ("covered", "2027-03-01"), "gearbox": ("excluded", "2028-03-01")}),
    # --- tractor power threshold ---------------------------------------------------------------
    Case("tractor-exactly-18kw-is-small", tractor("18"), "2026-12-02", wm="expired", wm_end="2026-12-01",
         codes=("tractor_small",)),
    Case("tractor-18.1kw-is-large", tractor("18.1"), "2026-12-02", wm="covered", wm_end="2027-03-01",
         mode="on_site", codes=("tractor_large",)),
    Case("tractor-power-unknown-buyer-favourable", tractor(None), "2026-12-02", wm="covered",
         codes=("tractor_power_unknown",)),
    # --- main-part replacement -----------------------------------------------------------------
    Case("replacement-after-two-serious-repairs", tractor(), "2026-09-01", repairs=TWO_SERIOUS_GEARBOX_REPAIRS,
         fault=SERIOUS_GEARBOX, remedy="main_part_replacement", mode="on_site",
         rules=("CN2010-MainPartReplacement",)),
    Case("no-replacement-after-one-serious-repair", tractor(), "2026-09-01",
         repairs=TWO_SERIOUS_GEARBOX_REPAIRS[:1], fault=SERIOUS_GEARBOX, remedy="repair"),
    Case("no-replacement-when-fault-not-serious", tractor(), "2026-09-01", repairs=TWO_SERIOUS_GEARBOX_REPAIRS,
         fault=GEARBOX_FAULT, remedy="repair"),
    Case("no-replacement-for-other-component", tractor(), "2026-09-01", repairs=TWO_SERIOUS_GEARBOX_REPAIRS,
         fault=FaultFacts(component="rear_axle", serious=True), remedy="repair"),
    Case("no-replacement-when-repairs-were-paid", tractor(), "2026-09-01",
         repairs=tuple(replace(r, under_warranty=False) for r in TWO_SERIOUS_GEARBOX_REPAIRS),
         fault=SERIOUS_GEARBOX, remedy="repair"),
    Case("replacement-within-main-part-period", tractor(), "2027-12-01",
         repairs=(repair("gearbox", "2027-04-01", "2027-04-02", serious=True, under_warranty=True),
                  repair("gearbox", "2027-06-01", "2027-06-02", serious=True)),
         fault=SERIOUS_GEARBOX, wm="expired", remedy="main_part_replacement"),
    # --- first operating season ----------------------------------------------------------------
    Case("first-season-two-general-repairs", tractor(first_season_start=D("2026-04-01")), "2026-04-25",
         repairs=(repair("gearbox", "2026-04-05", "2026-04-06"), repair("gearbox", "2026-04-15", "2026-04-16")),
         fault=GEARBOX_FAULT, remedy="main_part_replacement", rules=("CN2010-FirstSeason",)),
    Case("first-season-window-last-day", tractor(first_season_start=D("2026-04-01")), "2026-05-01",
         repairs=(repair("gearbox", "2026-04-05", "2026-04-06"), repair("gearbox", "2026-04-15", "2026-04-16")),
         fault=GEARBOX_FAULT, remedy="main_part_replacement"),
    Case("first-season-window-passed", tractor(first_season_start=D("2026-04-01")), "2026-05-02",
         repairs=(repair("gearbox", "2026-04-05", "2026-04-06"), repair("gearbox", "2026-04-15", "2026-04-16")),
         fault=GEARBOX_FAULT, remedy="repair", not_codes=("main_part_replacement_first_season",)),
    Case("first-season-wear-part-excluded", tractor(first_season_start=D("2026-04-01")), "2026-04-25",
         repairs=(repair("belt", "2026-04-05", "2026-04-06"), repair("belt", "2026-04-15", "2026-04-16")),
         fault=FaultFacts(component="belt"), remedy="none", mode="paid"),
    # --- exchange ------------------------------------------------------------------------------
    Case("exchange-after-main-part-replacement", tractor(), "2026-11-01",
         repairs=(*TWO_SERIOUS_GEARBOX_REPAIRS,
                  repair("gearbox", "2026-09-01", "2026-09-05", kind="main_part_replacement")),
         fault=GEARBOX_FAULT, remedy="exchange", rules=("CN2010-Exchange",)),
    Case("exchange-after-30-working-days-with-holiday", tractor(), "2026-11-10", holidays=GOLDEN_WEEK_2026,
         fault=FaultFacts(component="gearbox", repair_intake_date=D("2026-09-21"), customer_requests_exchange=True),
         remedy="exchange", codes=("repair_deadline_passed", "exchange_on_request"), rules=("CN2010-RepairDeadline",)),
    Case("deadline-not-passed-because-of-holiday", tractor(), "2026-11-09", holidays=GOLDEN_WEEK_2026,
         fault=FaultFacts(component="gearbox", repair_intake_date=D("2026-09-21"), customer_requests_exchange=True),
         remedy="repair", codes=("repair_deadline_running",), not_codes=("exchange_on_request",)),
    Case("deadline-with-tiaoxiu-saturday", tractor(), "2026-11-07", holidays=GOLDEN_WEEK_2026, workdays=TIAOXIU_2026,
         fault=FaultFacts(component="gearbox", repair_intake_date=D("2026-09-21"), customer_requests_exchange=True),
         remedy="exchange"),
    Case("deadline-passed-user-keeps-repairing", tractor(), "2026-11-10", holidays=GOLDEN_WEEK_2026,
         fault=FaultFacts(component="gearbox", repair_intake_date=D("2026-09-21")),
         remedy="repair", codes=("repair_deadline_passed",), not_codes=("exchange_on_request",)),
    # --- return --------------------------------------------------------------------------------
    Case("return-after-exchange", tractor(), "2027-01-15",
         repairs=(repair("gearbox", "2026-11-01", "2026-11-01", kind="exchange"),),
         fault=GEARBOX_FAULT, start="2026-11-01", remedy="return", rules=("CN2010-Return", "CN2010-ExchangeRestart")),
    Case("return-when-no-same-model", tractor(), "2026-11-01",
         repairs=(repair("gearbox", "2026-09-01", "2026-09-05", kind="main_part_replacement"),),
         fault=FaultFacts(component="gearbox", same_model_available=False), remedy="return",
         codes=("exchange_after_replacement", "return_no_same_model")),
    # --- holiday roll-forward of the period end ------------------------------------------------
    Case("holiday-rolls-end-forward", tractor(invoice="2025-10-01"), "2026-10-08", holidays=GOLDEN_WEEK_2026,
         wm="covered", wm_end="2026-10-08", rules=("CivilCode-Art203",)),
    Case("holiday-roll-day-after", tractor(invoice="2025-10-01"), "2026-10-09", holidays=GOLDEN_WEEK_2026,
         wm="expired", wm_end="2026-10-08"),
    Case("extension-lands-in-holiday", tractor(invoice="2025-09-25"), "2026-10-08", holidays=GOLDEN_WEEK_2026,
         repairs=(repair("gearbox", "2025-12-01", "2025-12-07"),), wm="covered", ext=6, wm_end="2026-10-08"),
    # --- workshop repair guarantee -------------------------------------------------------------
    Case("workshop-guarantee-last-day", tractor(), "2027-05-20",
         repairs=(repair("seat", "2027-02-15", "2027-02-20", workshop=True),), fault=FaultFacts(component="seat"),
         wm="expired", comp={"seat": ("covered", "2027-05-20")}, remedy="repair", mode="on_site",
         rules=("CN2010-WorkshopGuarantee",)),
    Case("workshop-guarantee-day-after", tractor(), "2027-05-21",
         repairs=(repair("seat", "2027-02-15", "2027-02-20", workshop=True),), fault=FaultFacts(component="seat"),
         comp={"seat": ("expired", "2027-05-20")}, remedy="none", mode="paid"),
    Case("workshop-guarantee-after-paid-overhaul", tractor(), "2027-08-01",
         repairs=(repair(WHOLE_MACHINE, "2027-06-01", "2027-06-10", workshop=True, under_warranty=False),),
         components=("seat",), wm="covered", wm_end="2027-09-10", comp={"seat": ("covered", "2027-09-10")}),
    Case("on-site-repair-has-no-own-guarantee", tractor(), "2027-04-01",
         repairs=(repair("seat", "2027-02-15", "2027-02-20"),), fault=FaultFacts(component="seat"),
         comp={"seat": ("expired", "2027-03-08")}, not_codes=("workshop_guarantee",)),  # 03-06 a Saturday
    # --- no proof of date ----------------------------------------------------------------------
    Case("no-dates-unknown", tractor(invoice=None), "2026-06-01", components=("gearbox",), fault=FaultFacts(),
         wm="unknown", comp={"gearbox": ("unknown", None)}, remedy="none", mode="paid",
         codes=("no_start_date",), rules=("CN2010-Art24",)),
    Case("no-dates-but-exchanged", tractor(invoice=None, exchanges=(D("2026-02-01"),)), "2026-06-01",
         wm="covered", start="2026-02-01", wm_end="2027-02-01"),
    # --- engine as power unit follows its host -------------------------------------------------
    Case("engine-follows-host-tractor", MachineFacts("diesel_engine_single", Decimal("25"), D("2026-01-11"),
                                                    host_category="tractor"), "2027-01-11",
         wm="covered", wm_end="2027-01-11", mode="on_site", rules=("CN2010-HostMachine",)),
    Case("engine-follows-host-small-tractor", MachineFacts("diesel_engine_multi", Decimal("16"), D("2026-01-12"),
                                                          host_category="tractor"), "2026-10-13",
         wm="expired", wm_end="2026-10-12", codes=("host_machine", "tractor_small")),
    Case("engine-follows-host-combine-main-part", MachineFacts("diesel_engine_single", None, D("2026-01-10"),
                                                               host_category="combine_harvester"), "2027-06-01",
         fault=FaultFacts(component="crankshaft"), wm="expired",
         comp={"crankshaft": ("covered", "2028-01-10")}, remedy="repair", mode="on_site"),
    Case("host-ignored-for-non-engine", machine("implement", "2026-02-01", host_category="tractor"), "2027-02-01",
         wm="covered", mode="carry_in", not_codes=("host_machine",)),
]


def run(case: Case, regime: Regime = REGIME) -> Evaluation:
    return evaluate(
        machine=case.machine,
        on=D(case.on),
        regime=regime,
        components=case.components,
        repairs=case.repairs,
        fault=case.fault,
        holidays=case.holidays,
        workdays=case.workdays,
    )


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rule_table(case: Case) -> None:
    ev = run(case)
    wm = ev.coverage.whole_machine
    if case.wm is not None:
        assert wm.state == case.wm
    if case.wm_end is not None:
        assert wm.end == D(case.wm_end)
    if case.start is not None:
        assert wm.start == D(case.start)
    if case.ext is not None:
        assert wm.extension_days == case.ext
    for name, (state, end) in case.comp.items():
        got = ev.coverage.components[name]
        assert (got.state, got.end) == (state, D(end) if end else None), name
    if case.remedy is not None:
        assert ev.remedy == case.remedy
    if case.mode is not None:
        assert ev.service_mode == case.mode
    for rule in case.rules:
        assert rule in ev.rules()
    for code in case.codes:
        assert code in ev.codes()
    for code in case.not_codes:
        assert code not in ev.codes()


def test_table_is_large_and_ids_unique() -> None:
    assert len(CASES) >= 45
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_every_reason_is_explained_in_both_languages(case: Case) -> None:
    ev = run(case)
    assert ev.reasons, "a decision without reasons"
    known = REGIME.rule_ids()
    for r in ev.reasons:
        assert r.rule and r.rule in known, r
        assert r.text_zh.strip() and r.text_en.strip(), r
        assert re.search(r"[\u4e00-\u9fff]", r.text_zh), r.text_zh
        assert "{" not in r.text_zh + r.text_en, r  # an unfilled placeholder
    d = ev.to_dict()
    assert set(d) == {"coverage", "remedy", "service_mode", "reasons", "policy"}
    assert d["policy"] == {"name": "CN-2010+company", "version": 1}
    json.dumps(d)  # JSON-safe: dates and decimals already strings


# --- evaluation details outside the table ------------------------------------------------------


def test_to_dict_shape_and_iso_dates() -> None:
    ev = evaluate(machine=tractor(), on=D("2026-06-01"), regime=REGIME, components=("gearbox", "belt"))
    d = ev.to_dict()
    assert d["coverage"]["whole_machine"] == {
        "state": "covered",
        "start": "2026-03-01",
        "end": "2027-03-01",
        "extension_days": 0,
        "parts_wait_days": 0,
        "rule": "CN2010-Annex",
    }
    assert d["coverage"]["components"]["gearbox"]["end"] == "2028-03-01"
    assert d["coverage"]["components"]["belt"] == {"state": "wear_part", "end": None, "rule": "CN2010-WearParts", "part": "wear"}
    assert d["remedy"] == "none"  # no fault reported: nothing to remedy


def test_holiday_roll_is_explained_with_both_dates() -> None:
    ev = evaluate(machine=tractor(invoice="2025-10-01"), on=D("2026-10-08"), regime=REGIME, holidays=GOLDEN_WEEK_2026)
    (roll,) = [r for r in ev.reasons if r.code == "holiday_rollover"]
    assert roll.params == {"last_day": "2026-10-01", "end": "2026-10-08"}
    assert "2026-10-08" in roll.text_zh and "2026-10-08" in roll.text_en


def test_service_mode_mapping_is_data() -> None:
    data = REGIME.to_dict()
    data["version"] = 2
    data["clauses"]["service_mode"]["covered"]["tractor_small"] = "mail_in"
    data["clauses"]["service_mode"]["not_covered"]["wear_part"] = "phone"
    regime = Regime.from_dict(data)
    small = tractor("10")
    assert evaluate(machine=small, on=D("2026-06-01"), regime=regime).service_mode == "mail_in"
    ev = evaluate(machine=small, on=D("2026-06-01"), regime=regime, fault=FaultFacts(component="belt"))
    assert ev.service_mode == "phone"
    assert ev.policy == {"name": "CN-2010+company", "version": 2}


def test_periods_and_threshold_are_data() -> None:
    data = REGIME.to_dict()
    data["clauses"]["periods"]["tractor_power_threshold_kw"] = "20"
    data["clauses"]["periods"]["by_class"]["tractor_small"]["whole_machine_months"] = 10
    regime = Regime.from_dict(data)
    ev = evaluate(machine=tractor("19"), on=D("2027-01-01"), regime=regime)
    assert ev.coverage.whole_machine.end == D("2027-01-01")


def test_exclusion_the_regime_does_not_list_does_not_exclude() -> None:
    data = REGIME.to_dict()
    data["clauses"]["exclusions"]["codes"].remove("force_majeure")  # a generous maker covers floods
    regime = Regime.from_dict(data)
    fault = FaultFacts(component="gearbox", exclusions=frozenset({"force_majeure"}))
    ev = evaluate(machine=tractor(), on=D("2026-06-01"), regime=regime, fault=fault)
    assert ev.coverage.components["gearbox"].state == "covered"
    assert ev.remedy == "repair"
    assert "exclusion_not_in_regime" in ev.codes()


@pytest.mark.parametrize(
    "bad",
    [
        MachineFacts(category="lawnmower"),
        MachineFacts(category="diesel_engine_single", host_category="spaceship"),
        MachineFacts(category="tractor", rated_power_kw=Decimal("-1")),
    ],
    ids=["unknown-category", "unknown-host", "negative-power"],
)
def test_bad_machine_facts_are_refused(bad: MachineFacts) -> None:
    with pytest.raises(ValueError):
        evaluate(machine=bad, on=D("2026-06-01"), regime=REGIME)


def test_bad_repair_and_fault_facts_are_refused() -> None:
    with pytest.raises(ValueError, match="kind"):
        evaluate(machine=tractor(), on=D("2026-06-01"), regime=REGIME,
                 repairs=(repair("gearbox", "2026-05-01", None, kind="warranty"),))
    with pytest.raises(ValueError, match="before it started"):
        evaluate(machine=tractor(), on=D("2026-06-01"), regime=REGIME,
                 repairs=(repair("gearbox", "2026-05-10", "2026-05-01"),))
    with pytest.raises(ValueError, match="acts_of_god"):
        evaluate(machine=tractor(), on=D("2026-06-01"), regime=REGIME,
                 fault=FaultFacts(exclusions=frozenset({"acts_of_god"})))


# --- dates -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        ("2026-03-01", 12, "2027-03-01"),
        ("2026-08-31", 6, "2027-02-28"),
        ("2027-08-31", 6, "2028-02-29"),
        ("2026-01-31", 1, "2026-02-28"),
        ("2026-12-15", 1, "2027-01-15"),
        ("2026-03-31", -1, "2026-02-28"),
        ("2026-05-31", 0, "2026-05-31"),
    ],
)
def test_add_months(start: str, n: int, expected: str) -> None:
    assert add_months(D(start), n) == D(expected)


def test_period_end_examples_from_the_rules() -> None:
    assert period_end(D("2026-03-01"), 12) == D("2027-03-01")
    # 28 February 2027 is a Sunday: the same-day rule (Art. 202) then the rest-day roll (Art. 203).
    assert add_months(D("2026-08-31"), 6) == D("2027-02-28")
    assert period_end(D("2026-08-31"), 6) == D("2027-03-01")
    assert period_end(D("2026-03-01"), 12, extension_days=3) == D("2027-03-04")
    # The roll goes past the whole holiday run, not just one day.
    assert period_end(D("2025-10-01"), 12, GOLDEN_WEEK_2026) == D("2026-10-08")
    # Extension first, then the holiday check on the extended day.
    assert period_end(D("2025-09-28"), 12, GOLDEN_WEEK_2026, extension_days=3) == D("2026-10-08")
    assert period_end(D("2025-09-28"), 12, GOLDEN_WEEK_2026, extension_days=2) == D("2026-09-30")
    with pytest.raises(ValueError):
        period_end(D("2026-03-01"), 12, extension_days=-1)


def test_working_days() -> None:
    assert is_working_day(D("2026-09-21"))  # Monday
    assert not is_working_day(D("2026-09-26"))  # Saturday
    assert not is_working_day(D("2026-10-02"), GOLDEN_WEEK_2026)
    assert is_working_day(D("2026-10-10"), GOLDEN_WEEK_2026, TIAOXIU_2026)
    assert add_working_days(D("2026-09-21"), 30) == D("2026-11-02")
    assert add_working_days(D("2026-09-21"), 30, GOLDEN_WEEK_2026) == D("2026-11-09")
    assert add_working_days(D("2026-09-21"), 30, GOLDEN_WEEK_2026, TIAOXIU_2026) == D("2026-11-06")


# --- the regime as data ------------------------------------------------------------------------


def test_default_regime_identity() -> None:
    assert REGIME.name == "CN-2010+company"
    assert REGIME.version == 1
    assert REGIME.effective_from == D("2010-06-01")
    assert REGIME.periods.tractor_power_threshold_kw == Decimal("18")
    assert REGIME.repair_deadline.working_days == 30
    assert REGIME.main_part_replacement.repairs_before == 2
    assert REGIME.first_season.days == 30
    assert REGIME.workshop_guarantee.months == 3
    assert {"CN2010-Art24", "CN2010-Annex"} <= REGIME.rule_ids()


def test_regime_round_trip() -> None:
    data = REGIME.to_dict()
    again = Regime.from_dict(json.loads(json.dumps(data)))
    assert again == REGIME
    assert again.to_dict() == data


def test_bundled_file_is_in_canonical_form() -> None:
    from importlib import resources

    text = resources.files("aftersales.warranty").joinpath("data/regime_cn_2010.json").read_text("utf-8")
    assert json.loads(text) == REGIME.to_dict()


def _mutate(path: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(REGIME.to_dict())
    *parents, last = path.split(".")
    node = data
    for p in parents:
        node = node[p]
    if value is _DELETE:
        del node[last]
    else:
        node[last] = value
    return data


_DELETE = object()


BAD_REGIME_EDITS: list[tuple[str, Any, str]] = [
    ("name", "", "name"),
    ("version", 0, "version"),
    ("version", True, "version"),
    ("effective_from", "2010-13-01", "effective_from"),
    ("clauses.periods", _DELETE, "clauses.periods"),
    ("clauses.periods.by_class.tractor_large.whole_machine_months", "12",
     "clauses.periods.by_class.tractor_large.whole_machine_months"),
    ("clauses.periods.by_class.tractor_small.main_parts_months", 0,
     "clauses.periods.by_class.tractor_small.main_parts_months"),
    ("clauses.periods.by_class.tractor_huge", {"whole_machine_months": 12, "main_parts_months": 24},
     "clauses.periods.by_class.tractor_huge"),
    ("clauses.periods.by_class.other", _DELETE, "clauses.periods.by_class.other"),
    ("clauses.periods.tractor_power_threshold_kw", "eighteen", "clauses.periods.tractor_power_threshold_kw"),
    ("clauses.repair_deadline.workng_days", 30, "clauses.repair_deadline.workng_days"),
    ("clauses.repair_deadline.working_days", -5, "clauses.repair_deadline.working_days"),
    ("clauses.start.rule", "", "clauses.start.rule"),
    ("clauses.start.rule", "CN 2010 Art24", "clauses.start.rule"),
    ("clauses.start.basis", "X", "clauses.start.basis"),
    ("clauses.exclusions.codes", ["misuse", "acts_of_god"], "clauses.exclusions.codes"),
    ("clauses.service_mode.covered.tractor_large", "helicopter", "clauses.service_mode.covered.tractor_large"),
    ("clauses.service_mode.not_covered.expired", _DELETE, "clauses.service_mode.not_covered.expired"),
    ("clauses.main_parts.by_category.tractor", "gearbox", "clauses.main_parts.by_category.tractor"),
    ("clauses.wear_parts.by_category.tractor", ["belt", "gearbox"], "clauses.wear_parts.by_category.tractor"),
    ("clauses.bonus", {"rule": "Company-Bonus", "basis": "U"}, "clauses.bonus"),
]


@pytest.mark.parametrize(
    ("path", "value", "key"),
    BAD_REGIME_EDITS,
    ids=[f"{i}-{path}" for i, (path, _, _) in enumerate(BAD_REGIME_EDITS)],
)
def test_policy_error_names_the_bad_key(path: str, value: Any, key: str) -> None:
    with pytest.raises(PolicyError) as err:
        Regime.from_dict(_mutate(path, value))
    assert err.value.key == key
    assert key in str(err.value)


def test_policy_error_on_non_object() -> None:
    with pytest.raises(PolicyError):
        Regime.from_dict(["not", "a", "regime"])


# --- waiting for parts (待件) ------------------------------------------------------------------


def test_parts_wait_outside_a_repair_extends_the_periods_with_the_request_named() -> None:
    # Parts requested on 06-01 arrived on 06-08 (7 days); the repair itself ran 06-08..06-10.
    waits = (PartsWait(D("2026-06-01"), D("2026-06-08"), reference="RQ-202606-0001"),)
    repairs = (repair("gearbox", "2026-06-08", "2026-06-10"),)
    ev = evaluate(machine=tractor(), on=D("2027-03-10"), regime=REGIME, repairs=repairs, waits=waits)
    whole = ev.coverage.whole_machine
    assert (whole.state, whole.extension_days, whole.parts_wait_days) == ("covered", 9, 7)
    assert whole.end == D("2027-03-10")
    (why,) = [r for r in ev.reasons if r.code == "extension_parts_wait"]
    assert why.params == {"days": 7, "references": "RQ-202606-0001"}
    assert "等待配件 7 天" in why.text_zh and "RQ-202606-0001" in why.text_en
    # Without the wait the same machine is out of cover that day.
    bare = evaluate(machine=tractor(), on=D("2027-03-10"), regime=REGIME, repairs=repairs)
    assert bare.coverage.whole_machine.state == "expired" and "extension_parts_wait" not in bare.codes()


def test_parts_wait_inside_a_repair_counts_once_and_an_open_wait_runs_to_today() -> None:
    repairs = (repair("gearbox", "2026-06-01", "2026-06-11"),)
    inside = (PartsWait(D("2026-06-03"), D("2026-06-08"), reference="RQ-1"),)
    ev = evaluate(machine=tractor(), on=D("2027-01-01"), regime=REGIME, repairs=repairs, waits=inside)
    assert (ev.coverage.whole_machine.extension_days, ev.coverage.whole_machine.parts_wait_days) == (10, 5)
    # Two components on one order are the same ten days, not twenty.
    both = repairs + (repair("hydraulic_lift", "2026-06-01", "2026-06-11"),)
    assert evaluate(machine=tractor(), on=D("2027-01-01"), regime=REGIME, repairs=both).coverage.whole_machine.extension_days == 10
    still = (PartsWait(D("2026-12-20"), None, reference="RQ-2"),)
    ev = evaluate(machine=tractor(), on=D("2027-01-01"), regime=REGIME, waits=still)
    assert ev.coverage.whole_machine.parts_wait_days == 12 and ev.coverage.whole_machine.end == D("2027-03-15")
    # A paid repair's wait and a wait before an exchange extend nothing.
    paid = (PartsWait(D("2026-06-01"), D("2026-06-20"), under_warranty=False),)
    assert evaluate(machine=tractor(), on=D("2027-01-01"), regime=REGIME, waits=paid).coverage.whole_machine.extension_days == 0
    with pytest.raises(ValueError, match="parts wait"):
        evaluate(machine=tractor(), on=D("2027-01-01"), regime=REGIME, waits=(PartsWait(D("2026-06-05"), D("2026-06-01")),))
