# Visit tasks per agent (issue 16): claimed or assigned, for the "my visits" list.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('visits', '0002_calendar_and_script'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='visittask',
            name='assigned_to',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='visit_tasks', to=settings.AUTH_USER_MODEL, verbose_name='assigned to'),
        ),
        migrations.AddIndex(
            model_name='visittask',
            index=models.Index(fields=['assigned_to', 'status', 'due_on'], name='visit_assignee_idx'),
        ),
    ]
