"""The statistics engine on hand-made timelines: each test names the measure of docs/kpis.md it proves."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aftersales.stats.engine import Step, Trace, drill, kpis, percentile, process_map

T0 = datetime(2026, 6, 10, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def trace(order_id, moves, order_type="repair", group="", scores=None):
    """moves: [(minutes after T0, action, from, to)]"""
    steps = tuple(Step(T0 + timedelta(minutes=m), a, f, t, (scores or {}).get(a)) for m, a, f, t in moves)
    return Trace(order_id, order_type, steps, group)


HAPPY = [
    (0, "create", "", "new"), (10, "forward", "new", "forwarded"), (30, "callback", "forwarded", "diagnosing"),
    (40, "confirm_mode", "diagnosing", "awaiting_dispatch"), (60, "dispatch", "awaiting_dispatch", "dispatched"),
    (90, "accept", "dispatched", "accepted"), (100, "assign", "accepted", "assigned"),
    (110, "tech_accept", "assigned", "tech_accepted"), (120, "schedule", "tech_accepted", "scheduled"),
    (300, "check_in", "scheduled", "in_service"), (400, "record_service", "in_service", "in_service"),
    (420, "check_out", "in_service", "awaiting_confirmation"), (425, "confirm", "awaiting_confirmation", "completed"),
    (1500, "rate", "completed", "closed"),
]


def test_percentile_is_nearest_rank():
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9) == 9
    assert percentile([5], 0.5) == 5
    assert percentile([], 0.5) is None


def test_handoff_time_and_15_minute_attainment():
    # Seed: the information coordinator forwards within 15 minutes. 10 min meets it, 20 min does not.
    late = [(0, "create", "", "new"), (20, "forward", "new", "forwarded")]
    table = kpis([trace(1, HAPPY), trace(2, late)])[""]
    assert table["handoff"].n == 2
    assert table["handoff"].value == 15.0  # mean of 10 and 20 minutes
    assert table["handoff"].median == 10.0 and table["handoff"].p90 == 20.0
    assert table["handoff_attainment"].value == 0.5


def test_arrival_fix_and_turnaround_in_hours():
    table = kpis([trace(1, HAPPY)])[""]
    assert table["arrival"].value == 4.0  # dispatch at 60 min, check-in at 300 min
    assert table["fix"].value == 2.0  # check-in 300 -> check-out 420
    assert table["dispatch_acceptance"].value == 30.0  # minutes
    assert table["turnaround"].value == round(425 / 60, 2)  # created -> completed
    assert table["callback"].value == 20.0


def test_first_time_fix_counts_second_dispatch_as_not_fixed_first_time():
    again = HAPPY[:5] + [(70, "reject", "dispatched", "awaiting_dispatch"),
                         (80, "dispatch", "awaiting_dispatch", "dispatched")] + HAPPY[5:]
    table = kpis([trace(1, HAPPY), trace(2, again)])[""]
    assert table["first_time_fix_rate"].n == 2
    assert table["first_time_fix_rate"].value == 0.5


def test_phone_resolution_escalation_rating_and_complaint_rates():
    by_phone = [(0, "create", "", "new"), (5, "forward", "new", "forwarded"), (9, "callback", "forwarded", "diagnosing"),
                (20, "solve_by_phone", "diagnosing", "closed")]
    escalated = HAPPY[:10] + [(310, "escalate", "in_service", "escalated"),
                              (370, "answer_escalation", "escalated", "in_service")] + HAPPY[10:]
    complaint = [(0, "create", "", "new"), (60, "investigate", "new", "investigating")]
    traces = [trace(1, HAPPY, scores={"rate": 5}), trace(2, by_phone), trace(3, escalated, scores={"rate": 1}),
              trace(4, complaint, order_type="complaint")]
    table = kpis(traces)[""]
    assert table["phone_resolution_rate"].value == round(1 / 3, 4)
    assert table["escalation_rate"].value == round(1 / 3, 4)
    assert table["escalation_answer"].value == 1.0
    assert table["rating"].value == 3.0 and table["rating"].n == 2
    assert table["low_rating_rate"].value == 0.5
    assert table["complaint_rate"].value == round(1 / 3, 4)
    assert table["intake"].value == 4 and table["intake_complaint"].value == 1


def test_groups_are_computed_apart():
    table = kpis([trace(1, HAPPY, group="山东省"), trace(2, HAPPY, group="河南省"), trace(3, HAPPY, group="河南省")])
    assert table["山东省"]["intake"].value == 1 and table["河南省"]["intake"].value == 2


def test_empty_measures_say_none_with_zero_orders():
    table = kpis([trace(1, [(0, "create", "", "new")])])[""]
    assert table["arrival"].value is None and table["arrival"].n == 0
    assert table["first_time_fix_rate"].value is None


def test_process_map_counts_edges_waits_and_marks_the_designed_flow():
    pm = process_map([trace(1, HAPPY), trace(2, HAPPY)])
    edges = {(e["source"], e["target"]): e for e in pm.edges}
    assert pm.orders == 2
    assert edges[("start", "new")]["count"] == 2
    assert edges[("new", "forwarded")]["count"] == 2 and edges[("new", "forwarded")]["designed"]
    # scheduled at 120 min, checked in at 300 min: three hours waiting for the technician to arrive
    assert edges[("scheduled", "in_service")]["median_hours"] == 3.0
    assert edges[("closed", "end")]["count"] == 2
    # the in_service -> in_service service record is not a move
    assert ("in_service", "in_service") not in edges
    assert pm.slowest[0]["source"] == "completed"  # waiting 18 hours for the rating


def test_process_map_lists_deviations_with_examples():
    ping_pong = HAPPY[:5] + [(70, "reject", "dispatched", "awaiting_dispatch"),
                             (80, "dispatch", "awaiting_dispatch", "dispatched")] + HAPPY[5:]
    skipped = [(0, "create", "", "awaiting_dispatch"), (5, "dispatch", "awaiting_dispatch", "dispatched")]
    pm = process_map([trace(7, ping_pong), trace(8, skipped), trace(9, HAPPY)])
    devs = {d.code: d for d in pm.deviations}
    assert devs["dispatch_ping_pong"].count == 1 and devs["dispatch_ping_pong"].examples == (7,)
    assert devs["skipped_hotline"].examples == (8,)
    edges = {(e["source"], e["target"]): e for e in pm.edges}
    assert edges[("dispatched", "awaiting_dispatch")]["designed"] is False
    assert edges[("start", "awaiting_dispatch")]["designed"] is False


def test_drill_lists_the_orders_behind_a_duration_slowest_first():
    late = [(0, "create", "", "new"), (20, "forward", "new", "forwarded")]
    rows = drill([trace(1, HAPPY), trace(2, late), trace(3, [(0, "create", "", "new")])], "handoff")
    assert [(t.order_id, v) for t, v in rows] == [(2, 20.0), (1, 10.0)]
    assert [t.order_id for t, _ in drill([trace(1, HAPPY), trace(4, HAPPY, order_type="complaint")], "intake_complaint")] == [4]
