"""Period arithmetic as the Civil Code counts it (民法典 第201-203条).

- Art. 201: the day the period starts is not counted.
- Art. 202: a period of months ends on the same-numbered day of the final month, or on that month's
  last day where there is no such day.
- Art. 203: if the last day is a statutory holiday, the period ends on the day after the holiday.

Holidays are passed in rather than looked up: the calendar (with its 调休 swaps) is data the rest of
the system keeps, and the engine must give the same answer for the same inputs.
"""

from __future__ import annotations

import calendar
from collections.abc import Set
from datetime import date, timedelta

__all__ = [
    "add_months",
    "add_working_days",
    "is_working_day",
    "period_end",
    "roll_past_holidays",
]


def add_months(start: date, n: int) -> date:
    """The same-numbered day ``n`` months later, clamped to the month's last day (Art. 202)."""
    month_index = start.year * 12 + (start.month - 1) + n
    year, month0 = divmod(month_index, 12)
    month = month0 + 1
    last_day = calendar.monthrange(year, month)[1]
    return date(year, month, min(start.day, last_day))


def roll_past_holidays(day: date, holidays: Set[date] = frozenset()) -> date:
    """The first day after a run of holidays that ``day`` falls in, else ``day`` itself (Art. 203).

    A run, not one day: a last day on the first of the seven Golden Week days has to land after all
    seven, or the period would end on a day nobody can act on either.
    """
    while day in holidays:
        day += timedelta(days=1)
    return day


def period_end(
    start: date,
    months: int,
    holidays: Set[date] = frozenset(),
    extension_days: int = 0,
) -> date:
    """The last covered day of a period of ``months`` starting on ``start``.

    The extension (days in warranty repair or waiting for parts) is added before the holiday check:
    the holiday rule is about the day the period really ends, which is only known once extended.
    """
    if months < 0:
        raise ValueError("months must not be negative")
    if extension_days < 0:
        raise ValueError("extension_days must not be negative")
    end = add_months(start, months) + timedelta(days=extension_days)
    return roll_past_holidays(end, holidays)


def is_working_day(
    day: date, holidays: Set[date] = frozenset(), workdays: Set[date] = frozenset()
) -> bool:
    """Monday to Friday unless a holiday; a 调休 Saturday or Sunday in ``workdays`` counts too."""
    if day in workdays:
        return True
    return day.weekday() < 5 and day not in holidays


def add_working_days(
    start: date,
    n: int,
    holidays: Set[date] = frozenset(),
    workdays: Set[date] = frozenset(),
) -> date:
    """The ``n``-th working day after ``start`` (the start day itself is not counted, as Art. 201)."""
    if n < 0:
        raise ValueError("n must not be negative")
    day = start
    remaining = n
    while remaining:
        day += timedelta(days=1)
        if is_working_day(day, holidays, workdays):
            remaining -= 1
    return day
