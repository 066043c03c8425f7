from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("core", "0001_config_stamp")]

    operations = [
        migrations.CreateModel(
            name="ThrottleCounter",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("key", models.CharField(max_length=200, unique=True, verbose_name="key")),
                ("count", models.PositiveIntegerField(default=0, verbose_name="count")),
                ("window_start", models.DateTimeField(verbose_name="window start")),
                ("last_at", models.DateTimeField(db_index=True, verbose_name="last attempt")),
                ("locked_until", models.DateTimeField(blank=True, null=True, verbose_name="locked until")),
            ],
            options={"verbose_name": "throttle counter", "verbose_name_plural": "throttle counters and lockouts"},
        ),
    ]
