"""The shipped busy-season calendar and first questionnaire (visits/data/*.json).

Loaded by the data migration with its historical models; the tests load them again after a
transactional test has emptied the tables (pytest-django flushes them), passing today's models."""

from __future__ import annotations

import json
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


def load_reference_data(Season, Question) -> None:
    """Idempotent: seasons by province and name; the questionnaire only when there is none yet."""
    for row in json.loads((DATA / "seasons.json").read_text(encoding="utf-8")):
        (sm, sd), (em, ed) = (map(int, row["start"].split("-")), map(int, row["end"].split("-")))
        Season.objects.get_or_create(province=row["province"], name=row["name"], defaults=dict(
            start_month=sm, start_day=sd, end_month=em, end_day=ed, categories=row["categories"]))
    if not Question.objects.exists():
        for position, row in enumerate(json.loads((DATA / "questions.json").read_text(encoding="utf-8"))):
            Question.objects.create(position=position * 10, **row)
