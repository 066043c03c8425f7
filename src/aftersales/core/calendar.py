"""The Chinese statutory calendar: public holidays and adjusted working days (调休).

Read from ``core/data/cn_holidays.json``, one entry per year, so that a new year's State Council
notice is a data change, not a code change.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=1)
def _load() -> dict:
    text = resources.files("aftersales.core").joinpath("data/cn_holidays.json").read_text(encoding="utf-8")
    return json.loads(text)["years"]


@lru_cache(maxsize=1)
def statutory_holidays() -> frozenset[date]:
    return frozenset(date.fromisoformat(d) for year in _load().values() for d in year["holidays"])


@lru_cache(maxsize=1)
def adjusted_workdays() -> frozenset[date]:
    """Saturdays and Sundays that are working days because a holiday was moved (调休上班)."""
    return frozenset(date.fromisoformat(d) for year in _load().values() for d in year["workdays"])


def years_covered() -> dict[int, str]:
    return {int(y): v["status"] for y, v in _load().items()}


def is_working_day(day: date) -> bool:
    if day in adjusted_workdays():
        return True
    return day.weekday() < 5 and day not in statutory_holidays()


def add_working_days(day: date, count: int) -> date:
    """The ``count``-th working day after ``day`` (法定工作日, 调休 included): the 30-working-day
    repair deadline counts from the day after intake."""
    if count < 0:
        raise ValueError("count must not be negative")
    current = day
    while count:
        current += timedelta(days=1)
        if is_working_day(current):
            count -= 1
    return current
