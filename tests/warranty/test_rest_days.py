"""Civil Code Art. 203 rest days and the 2010 regime's sequence in the pure engine, and the holiday
data file cross-checked against the `chinese-calendar` package (maintained from the State Council's
notices). Plain pytest: no Django."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from importlib import resources

import pytest

from aftersales.warranty.dates import is_rest_day, period_end, roll_past_rest_days
from aftersales.warranty.engine import FaultFacts, MachineFacts, RepairRecord, evaluate
from aftersales.warranty.policy import default_regime

D = date.fromisoformat
REGIME = default_regime()


def _calendar() -> dict:
    text = resources.files("aftersales.core").joinpath("data/cn_holidays.json").read_text("utf-8")
    return json.loads(text)["years"]


YEARS = _calendar()
HOLIDAYS = frozenset(D(d) for y in YEARS.values() for d in y["holidays"])
WORKDAYS = frozenset(D(d) for y in YEARS.values() for d in y["workdays"])
STATUS = {int(y): v["status"] for y, v in YEARS.items()}


def tractor(invoice: str) -> MachineFacts:
    return MachineFacts(category="tractor", rated_power_kw=Decimal("60"), invoice_date=D(invoice))


def run(machine, on, **kw):
    return evaluate(machine=machine, on=D(on), regime=REGIME, holidays=HOLIDAYS, workdays=WORKDAYS,
                    calendar_years=STATUS, **kw)


# --- Civil Code Art. 203: the rest days ---------------------------------------------------------

def test_civil_code_art_203_weekends_and_holidays_are_rest_days_a_tiaoxiu_saturday_is_not():
    assert is_rest_day(D("2026-03-07"), HOLIDAYS, WORKDAYS)  # Saturday
    assert is_rest_day(D("2026-03-08"), HOLIDAYS, WORKDAYS)  # Sunday
    assert is_rest_day(D("2026-10-05"), HOLIDAYS, WORKDAYS)  # National Day, a Monday
    assert not is_rest_day(D("2026-10-10"), HOLIDAYS, WORKDAYS)  # 调休: a Saturday worked
    assert not is_rest_day(D("2026-03-09"), HOLIDAYS, WORKDAYS)  # Monday
    assert roll_past_rest_days(D("2026-10-01"), HOLIDAYS, WORKDAYS) == D("2026-10-08")
    assert roll_past_rest_days(D("2026-03-07"), HOLIDAYS, WORKDAYS) == D("2026-03-09")
    assert period_end(D("2025-03-07"), 12, HOLIDAYS, workdays=WORKDAYS) == D("2026-03-09")
    assert period_end(D("2025-10-10"), 12, HOLIDAYS, workdays=WORKDAYS) == D("2026-10-10")


def test_civil_code_art_203_year_without_notice_uses_weekends_and_fixed_date_holidays():
    # 2030 has no notice on file: 1-3 October are the fixed-date National Day holidays.
    ev = run(tractor("2029-10-01"), "2030-10-02")
    wm = ev.coverage.whole_machine
    assert wm.end == D("2030-10-04") and wm.state == "covered"
    fallback = [r for r in ev.reasons if r.code == "calendar_fallback"]
    assert [r.params["year"] for r in fallback] == [2030] and fallback[0].rule == "CivilCode-Art203"
    # Labour Day is 1-2 May; 2030-05-04 is a Saturday, so 2 May (Thursday) rolls to Friday 3 May.
    assert run(tractor("2029-05-02"), "2029-06-01").coverage.whole_machine.end == D("2030-05-03")
    # A year on file and official says nothing about the calendar.
    assert not {"calendar_fallback", "calendar_provisional"} & set(run(tractor("2025-05-06"), "2025-06-01").codes())


# --- the 2010 regime: not started, unknown components, the sequence ------------------------------

def test_2010_regime_art_24_before_the_invoice_the_period_has_not_started():
    ev = run(tractor("2026-05-06"), "2026-05-05", fault=FaultFacts(component="gearbox"))
    assert ev.coverage.whole_machine.state == "not_started"
    assert ev.coverage.components["gearbox"].state == "not_started"
    assert ev.remedy == "none" and ev.service_mode == "paid"


def test_a_free_text_component_is_answered_with_an_unknown_component_reason():
    ev = run(tractor("2026-03-02"), "2026-06-01", components=("left_seat_cushion",),
             known_components=frozenset({"gearbox", "whole_machine"}))
    (reason,) = [r for r in ev.reasons if r.code == "unknown_component"]
    assert reason.params["component"] == "left_seat_cushion"
    assert ev.coverage.components["left_seat_cushion"].part == "general"
    ev = run(tractor("2026-03-02"), "2026-06-01", components=("gearbox",), known_components=frozenset({"gearbox"}))
    assert "unknown_component" not in ev.codes()


def _repair(component, started, finished, kind="repair", serious=True):
    return RepairRecord(component=component, started=D(started), finished=D(finished) if finished else None,
                        serious=serious, kind=kind)


def test_2010_regime_sequence_repair_replacement_exchange_return():
    machine = tractor("2026-03-02")
    fault = FaultFacts(component="gearbox", serious=True)
    history = [_repair("gearbox", "2026-04-01", "2026-04-02")]
    assert run(machine, "2026-05-01", repairs=history, fault=fault).remedy == "repair"
    history.append(_repair("gearbox", "2026-05-04", "2026-05-05"))
    assert run(machine, "2026-06-01", repairs=history, fault=fault).remedy == "main_part_replacement"
    history.append(_repair("gearbox", "2026-06-01", "2026-06-03", kind="main_part_replacement"))
    ev = run(machine, "2026-07-01", repairs=history, fault=fault)
    assert ev.remedy == "exchange" and "CN2010-Exchange" in ev.rules()
    history.append(_repair("gearbox", "2026-07-06", "2026-07-06", kind="exchange"))
    ev = run(machine, "2026-08-03", repairs=history, fault=fault)
    assert ev.remedy == "return" and ev.coverage.whole_machine.start == D("2026-07-06")


def test_an_open_repair_is_not_yet_an_earlier_repair_but_starts_the_deadline():
    machine = tractor("2026-03-02")
    fault = FaultFacts(component="gearbox", serious=True)
    history = [_repair("gearbox", "2026-04-01", "2026-04-02"), _repair("gearbox", "2026-05-04", None)]
    ev = run(machine, "2026-05-06", repairs=history, fault=fault)
    assert ev.remedy == "repair"
    (deadline,) = [r for r in ev.reasons if r.code == "repair_deadline_running"]
    assert deadline.params["intake"] == "2026-05-04"


def test_replacing_a_general_part_is_a_repair_not_the_step_before_an_exchange():
    machine = tractor("2026-03-02")
    history = [_repair("seal", "2026-04-01", "2026-04-02", kind="main_part_replacement", serious=False)]
    ev = run(machine, "2026-05-04", repairs=history, fault=FaultFacts(component="hydraulic_pump"))
    assert ev.remedy == "repair"
    history = [_repair("hydraulic_pump", "2026-04-01", "2026-04-02", kind="main_part_replacement")]
    ev = run(machine, "2026-05-04", repairs=history, fault=FaultFacts(component="hydraulic_pump", serious=True))
    assert ev.remedy == "repair" and "exchange_after_replacement" not in ev.codes()


# --- the holiday data against chinese-calendar ---------------------------------------------------

def test_holiday_data_matches_chinese_calendar_for_every_year_both_know():
    from chinese_calendar.constants import holidays as cc_holidays
    from chinese_calendar.constants import workdays as cc_workdays

    theirs = {d.year for d in cc_holidays}
    ours = set(STATUS)
    both = sorted(theirs & ours)
    assert both and both[0] == min(ours)
    for year in both:
        assert {d for d in HOLIDAYS if d.year == year} == {d for d in cc_holidays if d.year == year}, year
        assert {d for d in WORKDAYS if d.year == year} == {d for d in cc_workdays if d.year == year}, year
        assert STATUS[year] == "official", year
    # every year the library knows after our first one is on file too (a new notice is not missed)
    assert {y for y in theirs if y >= min(ours)} <= ours


def test_holiday_data_marks_each_year_and_carries_next_year():
    assert set(STATUS.values()) <= {"official", "provisional"}
    assert 2027 in STATUS
    for year, data in YEARS.items():
        assert all(d.startswith(f"{year}-") for d in (*data["holidays"], *data["workdays"])), year
        # a 调休 working day is a weekend day, and never a holiday at the same time
        assert all(D(d).weekday() >= 5 for d in data["workdays"]), year
        assert not set(data["holidays"]) & set(data["workdays"]), year


@pytest.mark.parametrize("year", sorted(y for y, s in STATUS.items() if s == "official"))
def test_each_official_year_has_the_fixed_date_holidays(year):
    assert {D(f"{year}-01-01"), D(f"{year}-05-01"), D(f"{year}-10-01")} <= HOLIDAYS
