from django.db import migrations


class Migration(migrations.Migration):
    """The app's Note becomes MaintenanceNote, apart from Nautobot's own Note; rows and endpoint stay."""

    dependencies = [
        ("nautobot_ssot_circuit_maintenance", "0003_json_field_validators"),
    ]

    operations = [
        migrations.RenameModel(old_name="Note", new_name="MaintenanceNote"),
    ]
