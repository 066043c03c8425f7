"""SLA arithmetic as a table: the pure engine, no database."""

from datetime import date, datetime, time, timedelta, timezone as dt_timezone

import pytest

from aftersales.core.calendar import add_working_days
from aftersales.sla import engine
from aftersales.sla.engine import CALENDAR, WORKING, WORKING_DAYS, Ev, Facts, Hours, Rule, Season, WorkCalendar

SH = engine.SHANGHAI
SEASONS = (
    Season("spring", "03-10", "06-15"), Season("autumn", "09-15", "11-15"),
    Season("wheat", "05-20", "06-10", ("河南", "安徽"), "小麦"), Season("wheat", "06-01", "06-30", ("河北", "山东"), "小麦"),
)
PLAIN = WorkCalendar()  # 08:00-18:00 on statutory working days, no busy season


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


@pytest.mark.parametrize("cal, start, hours, basis, due", [
    (PLAIN, "2026-11-27 17:00", 2, WORKING, "2026-11-30 09:00"),  # Friday evening -> Monday: the weekend does not count
    (PLAIN, "2026-12-01 17:30", 1, WORKING, "2026-12-02 08:30"),  # across the night
    (PLAIN, "2026-12-01 06:00", 1, WORKING, "2026-12-01 09:00"),  # before opening: counts from 08:00
    (PLAIN, "2026-09-30 17:00", 2, WORKING, "2026-10-08 09:00"),  # National Day holidays 10-01..10-07
    (PLAIN, "2026-10-09 17:00", 2, WORKING, "2026-10-10 09:00"),  # Saturday 10-10 is a 调休 working day
    (PLAIN, "2026-09-19 10:00", 1, WORKING, "2026-09-20 09:00"),  # Sunday 09-20 too; Saturday 09-19 is not
    (PLAIN, "2026-11-27 17:00", 2, CALENDAR, "2026-11-27 19:00"),  # calendar time ignores working hours
    (WorkCalendar(seasons=SEASONS), "2026-04-10 17:00", 2, WORKING, "2026-04-11 09:00"),  # busy season: 7 days a week
    (WorkCalendar(Hours(busy_every_day=False), SEASONS), "2026-04-10 17:00", 2, WORKING, "2026-04-13 09:00"),
    (WorkCalendar(Hours(time(7), time(19))), "2026-12-01 18:30", 1, WORKING, "2026-12-02 07:30"),  # own hours
    (PLAIN, "2026-11-02 00:00", 30 * 24, WORKING_DAYS, "2026-12-12 00:00"),  # 30 statutory working days
])
def test_due_times(cal, start, hours, basis, due):
    assert cal.advance(at(start), hours * 3600, basis) == at(due)
    # and back: the time counted between start and due is the target
    assert cal.counted(at(start), at(due), basis) == hours * 3600


@pytest.mark.parametrize("utc, minutes, local_due", [
    ("2026-11-30T23:50:00", 15, "2026-12-01 08:15"),  # Monday in UTC, Tuesday 07:50 in Shanghai
    ("2026-11-27T09:55:00", 15, "2026-11-30 08:10"),  # Friday 17:55 in Shanghai: 5 min now, 10 on Monday
])
def test_time_zone_boundaries(utc, minutes, local_due):
    start = datetime.fromisoformat(utc).replace(tzinfo=dt_timezone.utc)
    assert PLAIN.advance(start, minutes * 60, WORKING) == at(local_due)


def test_statutory_working_days_skip_holidays_and_count_adjusted_days():
    assert add_working_days(date(2026, 11, 1), 30) == date(2026, 12, 11)
    assert add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert add_working_days(date(2026, 10, 9), 1) == date(2026, 10, 10)  # 调休 Saturday


@pytest.mark.parametrize("day, province, crop, busy", [
    ("2026-06-20", "山东省", "小麦", True),  # wheat harvest in Shandong runs to 06-30
    ("2026-06-20", "河南省", "小麦", False),  # ... in Henan it ended 06-10
    ("2026-06-20", "山东省", "玉米", False),  # the wheat window is for wheat
    ("2026-06-05", "河南省", "小麦", True),
    ("2026-06-05", "广东省", "水稻", True),  # spring window, every province and crop
    ("2026-10-01", "黑龙江省", "", True),  # autumn
    ("2026-12-01", "山东省", "小麦", False),
])
def test_busy_season_windows_per_province_and_crop(day, province, crop, busy):
    cal = WorkCalendar(seasons=SEASONS, province=province, crop=crop)
    assert cal.is_busy(date.fromisoformat(day)) is busy


# --- clocks from events ---------------------------------------------------------------------------

RULES = (
    Rule(1, "handoff", 15 * 60, WORKING, order_types=("repair", "consultation")),
    Rule(2, "callback", 3600, WORKING, order_types=("repair", "consultation")),
    Rule(3, "dispatch_accept", 2 * 3600, WORKING, order_types=("repair",)),
    Rule(4, "on_site", 6 * 3600, WORKING, order_types=("repair",), service_modes=("on_site", "paid")),
    Rule(5, "on_site", 8 * 3600, WORKING, order_types=("repair",), service_modes=("on_site", "paid"),
         provinces=("新疆", "西藏", "青海", "内蒙古", "黑龙江")),
    Rule(6, "fixed", 12 * 3600, WORKING, order_types=("repair",), season="busy"),
    Rule(7, "complaint_response", 3600, WORKING, order_types=("complaint",)),
)
REPAIR = Facts("repair", "farmer", "on_site", "山东省", "小麦")


class Timeline:
    def __init__(self):
        self.events = []

    def add(self, when: str, action: str, to_status: str = "", actor=(10, 100), **data):
        self.events.append(Ev(len(self.events) + 1, at(when), action, to_status, actor[1], actor[0], data))
        return self


def clocks(tl: Timeline, facts=REPAIR, rules=RULES, cal=WorkCalendar(seasons=SEASONS, province="山东省", crop="小麦"), people=None):
    return {c.target: c for c in engine.derive_clocks(tl.events, facts, rules, lambda org: cal, people or {})}


def test_seed_15_minute_handoff_is_held_by_the_information_coordinators_pool_not_the_call_agent():
    """Seed: 信息协调员 forward a new call to a hotline technician within 15 minutes. The call agent
    (actor 100 of organization 10) took the call; the handoff hop is the coordinators' pool's."""
    tl = Timeline().add("2026-12-01 09:00", "create", "new", order_type="repair")
    running = clocks(tl)["handoff"]
    assert (running.holder_org_id, running.holder_user_id, running.holder_pool) == (10, None, "information_coordinator")
    tl.add("2026-12-01 09:10", "forward", "forwarded", actor=(10, 101), hotline_technician_id=7)
    c = clocks(tl, people={7: 11})
    assert (c["handoff"].state, c["handoff"].outcome, c["handoff"].counted_seconds) == ("met", "met", 600)
    assert (c["handoff"].holder_org_id, c["handoff"].holder_user_id, c["handoff"].holder_pool) == (
        10, None, "information_coordinator")  # answerable for the hop it ran in, not the order's holder now
    assert c["callback"].state == "running" and c["callback"].due_at == at("2026-12-01 10:10")
    assert c["callback"].warn_at == at("2026-12-01 09:58")  # 80 % of an hour
    assert (c["callback"].holder_org_id, c["callback"].holder_user_id, c["callback"].holder_pool) == (11, 7, "")
    assert c["handoff"].hops == [{"org_id": 10, "user_id": None, "pool": "information_coordinator",
                                  "from": at("2026-12-01 09:00").isoformat(),
                                  "to": at("2026-12-01 09:10").isoformat(), "seconds": 600.0}]


@pytest.mark.parametrize("events, holder", [
    # the hotline technicians' callback when the coordinator names nobody
    ([("create", "new", {"order_type": "repair"}), ("forward", "forwarded", {})], (10, None, "hotline_technician")),
    # the repair coordinators' dispatch after the mode is confirmed
    ([("create", "new", {"order_type": "repair"}), ("confirm_mode", "awaiting_dispatch", {})],
     (10, None, "repair_coordinator")),
    # an organization's acceptance of a dispatch without a named technician
    ([("confirm_mode", "awaiting_dispatch", {}), ("dispatch", "dispatched", {"organization_id": 20})],
     (20, None, "acceptance")),
    # a complaint's first response: the supervisors
    ([("create", "new", {"order_type": "complaint"})], (10, None, "supervisor")),
])
def test_each_pool_hop_is_held_by_its_pool_until_a_person_takes_it(events, holder):
    tl = Timeline()
    for i, (action, status, data) in enumerate(events):
        tl.add(f"2026-12-01 09:{i:02d}", action, status, **data)
    running = [c for c in engine.derive_clocks(tl.events, Facts("complaint" if "complaint" in str(events) else "repair",
                                                                   service_mode="on_site"), RULES, lambda o: PLAIN, {})
               if c.state == "running"]
    first = min(running, key=lambda c: list(engine.STAGES).index(c.target))
    assert (first.holder_org_id, first.holder_user_id, first.holder_pool) == holder


def test_breached_handoff_and_no_fixed_clock_outside_busy_season():
    tl = Timeline().add("2026-12-01 09:00", "create", "new").add("2026-12-01 09:40", "forward", "forwarded")
    c = clocks(tl)
    assert (c["handoff"].state, c["handoff"].due_at) == ("breached", at("2026-12-01 09:15"))
    assert "fixed" not in c  # December is not a busy season in Shandong


def test_pause_moves_the_due_time_by_the_paused_time():
    tl = (Timeline().add("2026-12-01 09:00", "create", "new")
          .add("2026-12-01 09:05", "pause_clock", reason="waiting_customer"))
    assert clocks(tl)["handoff"].state == "paused" and clocks(tl)["handoff"].due_at is None
    tl.add("2026-12-01 10:00", "resume_clock")
    c = clocks(tl)["handoff"]
    assert (c.state, c.due_at) == ("running", at("2026-12-01 10:10"))
    assert c.pauses == [{"reason": "waiting_customer", "from": at("2026-12-01 09:05").isoformat(),
                         "to": at("2026-12-01 10:00").isoformat()}]


def test_policy_and_mode_changes_recompute_from_history_not_from_now():
    tl = Timeline().add("2026-12-01 09:00", "create", "new")
    longer = tuple(r if r.target != "handoff" else Rule(1, "handoff", 30 * 60, WORKING) for r in RULES)
    assert clocks(tl, rules=longer)["handoff"].due_at == at("2026-12-01 09:30")
    tl.add("2026-12-01 09:10", "forward", "forwarded").add("2026-12-01 09:20", "callback", "diagnosing")
    tl.add("2026-12-01 09:30", "confirm_mode", "awaiting_dispatch")
    assert clocks(tl)["on_site"].due_at == at("2026-12-01 15:30")
    remote = Facts("repair", "farmer", "on_site", "黑龙江省")
    assert clocks(tl, facts=remote)["on_site"].due_at == at("2026-12-01 17:30")  # 8 h in a remote province
    assert "on_site" not in clocks(tl, facts=Facts("repair", "farmer", "carry_in", "山东省"))


def test_busy_season_fixed_clock_and_reopen_continues_it():
    tl = (Timeline().add("2026-06-20 08:00", "create", "new")
          .add("2026-06-20 12:00", "check_out", "awaiting_confirmation"))
    c = clocks(tl)["fixed"]  # 06-20 is a Saturday (and a holiday) in the wheat harvest: counted
    assert (c.state, c.counted_seconds) == ("met", 4 * 3600)
    tl.add("2026-06-20 14:00", "reopen", "in_service")
    c = clocks(tl)["fixed"]
    # 4 h were used; 8 h remain from 14:00: 14:00-18:00 today, 08:00-12:00 on Sunday.
    assert (c.state, c.due_at) == ("running", at("2026-06-21 12:00"))


def test_rejection_and_redispatch_continue_the_dispatch_clock_and_record_the_hops():
    tl = (Timeline().add("2026-12-01 09:00", "confirm_mode", "awaiting_dispatch", actor=(1, 50))
          .add("2026-12-01 09:30", "dispatch", "dispatched", actor=(1, 60), organization_id=20)
          .add("2026-12-01 10:00", "reject", "awaiting_dispatch", actor=(20, 70))
          .add("2026-12-01 10:30", "dispatch", "dispatched", actor=(1, 60), organization_id=30, technician_id=80))
    c = clocks(tl)["dispatch_accept"]
    assert (c.state, c.due_at) == ("running", at("2026-12-01 11:00"))
    assert [(h["org_id"], h["user_id"], h["pool"], h["seconds"]) for h in c.hops] == [
        (1, None, "repair_coordinator", 1800), (20, None, "acceptance", 1800), (1, None, "repair_coordinator", 1800),
        (30, 80, "", None)]
    tl.add("2026-12-01 11:30", "accept", "accepted", actor=(30, 90))
    c = clocks(tl)["dispatch_accept"]
    assert (c.state, c.outcome, c.stopped_at) == ("breached", "breached", at("2026-12-01 11:30"))


def test_a_cancelled_order_cancels_its_running_clocks():
    tl = Timeline().add("2026-12-01 09:00", "create", "new").add("2026-12-01 09:05", "cancel", "cancelled")
    c = clocks(tl)["handoff"]
    assert (c.state, c.outcome, c.stopped_at) == ("cancelled", "", at("2026-12-01 09:05"))
    late = Timeline().add("2026-12-01 09:00", "create", "new").add("2026-12-01 11:00", "cancel", "cancelled")
    assert (clocks(late)["handoff"].state, clocks(late)["handoff"].outcome) == ("cancelled", "breached")


def test_complaint_response_and_most_specific_rule_wins():
    tl = Timeline().add("2026-12-01 17:30", "create", "new")
    c = clocks(tl, facts=Facts("complaint"))
    assert set(c) == {"complaint_response"} and c["complaint_response"].due_at == at("2026-12-02 08:30")
    assert engine.choose(RULES, "on_site", Facts("repair", service_mode="on_site", province="新疆维吾尔自治区"), False).id == 5
    assert engine.choose(RULES, "on_site", Facts("repair", service_mode="on_site", province="山东省"), False).id == 4
