# The channels of issue 16 (every way a customer reaches us). The same list as the cti branch's
# migration, so the two merge as one.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('service', '0008_perf_event_position'),
    ]

    operations = [
        migrations.AlterField(
            model_name='serviceorder',
            name='channel',
            field=models.CharField(choices=[('phone', 'Phone'), ('fax', 'Fax'), ('email', 'E-mail'), ('portal', 'Customer portal'), ('api', 'API'), ('visit', 'Return visit'), ('campaign', 'Campaign')], default='phone', max_length=10, verbose_name='channel'),
        ),
    ]
