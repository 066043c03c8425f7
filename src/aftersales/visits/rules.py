"""When a visit is due, as pure functions of dates (no database, no "now"): the tests feed them
tables, as they do the warranty and SLA engines."""

from __future__ import annotations

import calendar
from datetime import date, timedelta


def quarter_key(on: date) -> str:
    """``2026Q4``: a key account is called once in each quarter."""
    return f"{on.year}Q{(on.month - 1) // 3 + 1}"


def _day(year: int, month: int, day: int) -> date:
    # 29 February and other days a month lacks fall back to the month's last day.
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def season_start_due(on: date, *, start_month: int, start_day: int, lead_days: int) -> date | None:
    """The start of the season whose pre-season check falls due on ``on``: the machines that will
    work it are called from ``lead_days`` before the season until it starts. None when no season
    starts within ``lead_days`` of ``on``."""
    for year in (on.year, on.year + 1):
        start = _day(year, start_month, start_day)
        if start - timedelta(days=lead_days) <= on < start:
            return start
    return None


def completed_since(on: date, days: int) -> date:
    """The first day whose completed orders still get a call on ``on``."""
    return on - timedelta(days=days)
