"""Who forwarded a notice, and when (a source's `forwarders`)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("nautobot_ssot_circuit_maintenance", "0019_maintenance_silence"),
    ]

    operations = [
        migrations.AddField(
            model_name="rawnotification",
            name="forwarded_by",
            field=models.CharField(blank=True, max_length=255),
        ),
        migrations.AddField(
            model_name="rawnotification",
            name="forwarded_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
