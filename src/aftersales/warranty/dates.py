"""Period arithmetic as the Civil Code counts it (民法典 第201-203条).

- Art. 201: the day the period starts is not counted.
- Art. 202: a period of months ends on the same-numbered day of the final month, or on that month's
  last day where there is no such day.
- Art. 203: if the last day is a 法定休假日, the period ends on the first day after it. In practice
  (民通意见 Art. 198, carried into Art. 203) that is any day actually taken as rest: Saturdays and
  Sundays and the public holidays as the year's State Council notice arranges them; a weekend day
  made a working day by 调休 is not one.

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
    "FIXED_DATE_HOLIDAYS",
    "is_rest_day",
    "is_working_day",
    "period_end",
    "roll_past_holidays",
    "roll_past_rest_days",
]

# The public holidays that fall on the same Gregorian date every year (全国年节及纪念日放假办法 as
# revised in 2024: New Year's Day, Labour Day 1-2 May, National Day 1-3 October). For a year whose
# notice is not out, these plus the weekends are all that can be said for sure; the lunar holidays
# (Spring Festival, Dragon Boat, Mid-Autumn) and the 调休 swaps are only known from the notice.
FIXED_DATE_HOLIDAYS = frozenset({(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)})


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


def is_rest_day(day: date, holidays: Set[date] = frozenset(), workdays: Set[date] = frozenset()) -> bool:
    """A 法定休假日 in the Art. 203 sense: a public holiday, or a Saturday or Sunday not worked by 调休."""
    if day in workdays:
        return False
    return day in holidays or day.weekday() >= 5


def roll_past_rest_days(day: date, holidays: Set[date] = frozenset(), workdays: Set[date] = frozenset()) -> date:
    """The first working day from ``day`` on (Civil Code Art. 203): past a weekend, a holiday run,
    or both (a Golden Week followed by a Sunday), stopping on a 调休 working Saturday."""
    while is_rest_day(day, holidays, workdays):
        day += timedelta(days=1)
    return day


def period_end(
    start: date,
    months: int,
    holidays: Set[date] = frozenset(),
    extension_days: int = 0,
    workdays: Set[date] = frozenset(),
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
    return roll_past_rest_days(end, holidays, workdays)


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
