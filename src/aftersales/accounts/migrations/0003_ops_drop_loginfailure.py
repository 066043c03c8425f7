from django.db import migrations


class Migration(migrations.Migration):
    """Failed logins are counted by the shared throttle (core.ThrottleCounter) now."""

    dependencies = [("accounts", "0002_roles"), ("core", "0002_ops_throttle")]

    operations = [migrations.DeleteModel(name="LoginFailure")]
