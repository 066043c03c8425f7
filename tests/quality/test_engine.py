"""The batch alarm (批量问题预警) on hand-made field counts."""

from __future__ import annotations

from math import exp

import pytest

from aftersales.quality.engine import Cell, Thresholds, batch_of, find_alarms, poisson_tail


def test_poisson_tail_matches_the_formula():
    assert poisson_tail(1, 1.0) == pytest.approx(1 - exp(-1))
    assert poisson_tail(3, 0.5) == pytest.approx(1 - exp(-0.5) * (1 + 0.5 + 0.125))
    assert poisson_tail(0, 3.0) == 1.0
    assert poisson_tail(2, 0.0) == 0.0


@pytest.mark.parametrize("serial, length, batch", [
    ("LX904-2406-0137", 0, "LX904-2406"),
    ("lx904-2406-0137", 0, "LX904-2406"),
    ("DF1204A24060137", 0, "DF1204A2406"),
    ("DF1204A24060137", 7, "DF1204A"),
])
def test_the_batch_is_read_from_the_serial(serial, length, batch):
    assert batch_of(serial, prefix_length=length) == batch


def _field(batches):
    return [Cell("LX904", "gearbox", b, n, f) for b, n, f in batches]


def test_a_batch_failing_far_above_its_siblings_raises_an_alarm():
    # 100 machines per batch; the other batches fail 1 in 100, batch 2406 fails 9 in 100.
    cells = _field([("LX904-2404", 100, 1), ("LX904-2405", 100, 1), ("LX904-2406", 100, 9), ("LX904-2407", 100, 1)])
    alarms = find_alarms(cells)
    assert [a.batch for a in alarms] == ["LX904-2406"]
    alarm = alarms[0]
    assert alarm.expected == 1.0 and alarm.ratio == 9.0
    assert alarm.p_value == pytest.approx(poisson_tail(9, 1.0))


def test_small_counts_do_not_cry_wolf():
    # two failures in a batch of 5 while the rest fail 1 in 100: improbable, but under the minimum count
    cells = _field([("A", 5, 2), ("B", 300, 3)])
    assert find_alarms(cells) == []
    # the same ratio with more machines is an alarm
    assert [a.batch for a in find_alarms(_field([("A", 50, 8), ("B", 300, 3)]))] == ["A"]


def test_a_model_that_never_failed_elsewhere_is_judged_against_half_a_failure():
    alarms = find_alarms(_field([("A", 100, 4), ("B", 400, 0)]))
    assert alarms and alarms[0].expected == pytest.approx(0.5 / 400 * 100)


def test_a_lone_batch_has_nothing_to_be_compared_with():
    assert find_alarms(_field([("A", 100, 30)])) == []


def test_thresholds_are_data():
    cells = _field([("A", 100, 4), ("B", 100, 1), ("C", 100, 1)])
    assert find_alarms(cells, Thresholds(min_failures=3, p_value=0.05, min_ratio=2.0))
    assert not find_alarms(cells, Thresholds(min_failures=5, p_value=0.05, min_ratio=2.0))
