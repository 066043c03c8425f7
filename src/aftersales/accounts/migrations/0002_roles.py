from django.db import migrations

ROLES = [
    "call_agent", "information_coordinator", "hotline_technician", "repair_coordinator",
    "field_technician", "technical_engineer", "supervisor", "administrator",
]


def create_roles(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    for code in ROLES:
        Role.objects.get_or_create(code=code)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
