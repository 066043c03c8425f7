import uuid

from django.db import migrations, models


def fill(apps, schema_editor):
    """A distinct id for every message already queued (a column default would give them one)."""
    OutboxMessage = apps.get_model("notify", "OutboxMessage")
    for pk in OutboxMessage.objects.filter(message_id__isnull=True).values_list("pk", flat=True).iterator():
        OutboxMessage.objects.filter(pk=pk).update(message_id=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [("notify", "0003_clocks_notifications")]

    operations = [
        migrations.AddField(model_name="outboxmessage", name="message_id",
                            field=models.UUIDField(editable=False, null=True, verbose_name="message id")),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(model_name="outboxmessage", name="message_id",
                              field=models.UUIDField(default=uuid.uuid4, editable=False, verbose_name="message id")),
    ]
