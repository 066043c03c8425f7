# The busy-season calendar and the first questionnaire, from visits/data/*.json: both are data the
# service center edits in the admin afterwards, so they are loaded once, not on every start.

import json
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parents[1] / "data"


def load(apps, schema_editor):
    Season = apps.get_model("visits", "Season")
    Question = apps.get_model("visits", "VisitQuestion")
    for row in json.loads((DATA / "seasons.json").read_text(encoding="utf-8")):
        (sm, sd), (em, ed) = (map(int, row["start"].split("-")), map(int, row["end"].split("-")))
        Season.objects.get_or_create(province=row["province"], name=row["name"], defaults=dict(
            start_month=sm, start_day=sd, end_month=em, end_day=ed, categories=row["categories"]))
    if not Question.objects.exists():
        for position, row in enumerate(json.loads((DATA / "questions.json").read_text(encoding="utf-8"))):
            Question.objects.create(position=position * 10, **row)


class Migration(migrations.Migration):
    dependencies = [("visits", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
