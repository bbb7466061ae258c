"""The live state stored on each maintenance (recorded at each transition), filled for the rows there are as of now."""

from django.db import migrations, models
from django.utils import timezone

BATCH = 1000


def record_live_states(apps, schema_editor):
    """Store each maintenance's live state as of now, as `CircuitMaintenance.current_live_state` computes it.

    The computation is the model's own, on an unsaved instance built from the row's status and times (the
    historical model has no methods). What was published before stays in `live_events`.
    """
    from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance as CurrentModel
    from nautobot_ssot_circuit_maintenance.models import starting_soon_hours

    model = apps.get_model("nautobot_ssot_circuit_maintenance", "CircuitMaintenance")
    now, hours = timezone.now(), starting_soon_hours()
    batch = []
    for row in model.objects.only("pk", "status", "start_time", "end_time", "windows").iterator(chunk_size=BATCH):
        computed = CurrentModel(
            status=row.status, start_time=row.start_time, end_time=row.end_time, windows=row.windows
        ).current_live_state(now, soon_hours=hours)
        row.live_state = computed
        batch.append(row)
        if len(batch) >= BATCH:
            model.objects.bulk_update(batch, ["live_state"])
            batch = []
    if batch:
        model.objects.bulk_update(batch, ["live_state"])


class Migration(migrations.Migration):

    dependencies = [
        ('nautobot_ssot_circuit_maintenance', '0017_source_last_run_started'),
    ]

    operations = [
        migrations.AddField(
            model_name='circuitmaintenance',
            name='live_state',
            field=models.CharField(blank=True, db_index=True, default=None, editable=False, max_length=20, null=True),
        ),
        migrations.RunPython(record_live_states, migrations.RunPython.noop),
    ]
