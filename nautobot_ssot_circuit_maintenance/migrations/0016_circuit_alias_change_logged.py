"""Circuit aliases are change-logged (they are written through the REST API too): they get `last_updated`."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("nautobot_ssot_circuit_maintenance", "0015_jobs_in_their_packages"),
    ]

    operations = [
        migrations.AddField(
            model_name="circuitalias",
            name="last_updated",
            field=models.DateTimeField(auto_now=True, null=True),
        ),
    ]
