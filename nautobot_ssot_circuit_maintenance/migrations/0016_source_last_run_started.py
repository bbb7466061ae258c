"""The start of each source's last run, so the overview counts the messages that run stored."""


from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('nautobot_ssot_circuit_maintenance', '0015_jobs_in_their_packages'),
    ]

    operations = [
        migrations.AddField(
            model_name='notificationsource',
            name='last_run_started',
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
