"""The app's jobs are defined in the package of their feature now: their Job records follow.

Nautobot knows a job by its module and class name. Without this, the next `post_upgrade` would make new
Job records (disabled) and leave the old ones, with their enabled flag, schedules, Job Hooks and
Job Buttons, pointing at classes that no longer exist.
"""

from django.db import migrations

APP = "nautobot_ssot_circuit_maintenance"
# class name -> (old module, new module)
MOVED = {
    "CircuitMaintenanceDataSource": (f"{APP}.jobs", f"{APP}.sync.jobs"),
    "ReparseDataSource": (f"{APP}.jobs", f"{APP}.sync.jobs"),
    "OlderAppImportDataSource": (f"{APP}.import_job", f"{APP}.older_app.jobs"),
    "MaintenanceFlagsReport": (f"{APP}.flag_job", f"{APP}.flags.jobs"),
    "PublishLiveStateEvents": (f"{APP}.jobs_live", f"{APP}.events.jobs"),
}


def move(apps, *, forward: bool) -> None:
    Job = apps.get_model("extras", "Job")
    ScheduledJob = apps.get_model("extras", "ScheduledJob")
    for class_name, (old, new) in MOVED.items():
        source, target = (old, new) if forward else (new, old)
        if Job.objects.filter(module_name=target, job_class_name=class_name).exists():
            continue  # already registered under the new module (a fresh install): nothing to carry over
        Job.objects.filter(module_name=source, job_class_name=class_name).update(module_name=target)
        ScheduledJob.objects.filter(task=f"{source}.{class_name}").update(task=f"{target}.{class_name}")


def forwards(apps, schema_editor) -> None:
    move(apps, forward=True)


def backwards(apps, schema_editor) -> None:
    move(apps, forward=False)


class Migration(migrations.Migration):
    dependencies = [
        ("nautobot_ssot_circuit_maintenance", "0014_pushed_messages_kept_whole"),
        ("extras", "0132_approval_workflow_seed_data"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
