"""The start of each source's last run, so the overview counts the messages that run stored."""


from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('nautobot_ssot_circuit_maintenance', '0016_circuit_alias_change_logged'),
    ]

    operations = [
        migrations.AddField(
            model_name='notificationsource',
            name='last_run_started',
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
