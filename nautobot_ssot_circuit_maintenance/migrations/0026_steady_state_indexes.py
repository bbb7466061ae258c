# Indexes for a store of years of maintenances and a million notifications (the benchmark's steady state):
# what a sync run with no new mail, the overview, the lists and the triage queue ask is answered from these
# instead of reading every row. The single-column index on live_state gives way to one on (live_state, status).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("nautobot_ssot_circuit_maintenance", "0025_sync_links"),
    ]

    operations = [
        migrations.AlterField(
            model_name="circuitmaintenance",
            name="end_time",
            field=models.DateTimeField(db_index=True),
        ),
        migrations.AlterField(
            model_name="circuitmaintenance",
            name="live_state",
            field=models.CharField(blank=True, default=None, editable=False, max_length=20, null=True),
        ),
        migrations.AddIndex(
            model_name="circuitmaintenance",
            index=models.Index(fields=["live_state", "status"], name="cm_live_state_status_idx"),
        ),
        migrations.AddIndex(
            model_name="circuitmaintenance",
            index=models.Index(fields=["last_updated"], name="cm_last_updated_idx"),
        ),
        migrations.AddIndex(
            model_name="circuitmaintenance",
            index=models.Index(
                condition=models.Q(("unresolved_circuit_ids", []), _negated=True),
                fields=["start_time"],
                name="cm_unresolved_cids_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="rawnotification",
            index=models.Index(fields=["parser_version"], name="cm_raw_parser_version_idx"),
        ),
        migrations.AddIndex(
            model_name="rawnotification",
            index=models.Index(fields=["source", "created"], name="cm_raw_source_created_idx"),
        ),
    ]
