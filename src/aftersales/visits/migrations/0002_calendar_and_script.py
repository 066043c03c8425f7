# The busy-season calendar and the first questionnaire, from visits/data/*.json: both are data the
# service center edits in the admin afterwards, so they are loaded once, not on every start.

from django.db import migrations

from aftersales.visits.reference import load_reference_data


def load(apps, schema_editor):
    load_reference_data(apps.get_model("visits", "Season"), apps.get_model("visits", "VisitQuestion"))


class Migration(migrations.Migration):
    dependencies = [("visits", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
