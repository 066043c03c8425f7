# Video and voice notes from the customer's phone portal (issue 16, item 3).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('service', '0009_portal_channels'),
    ]

    operations = [
        migrations.AlterField(
            model_name='attachment',
            name='kind',
            field=models.CharField(choices=[('photo', 'Photo'), ('document', 'Document'), ('signature', 'Customer signature'), ('video', 'Video'), ('audio', 'Voice note')], default='photo', max_length=10, verbose_name='kind'),
        ),
    ]
