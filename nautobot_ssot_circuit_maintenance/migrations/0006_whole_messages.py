"""Keep every message whole (compressed) and record the parser's version.

Rows stored before this migration hold at most `raw_notification_size` bytes: those whose head is
the whole message become `whole`, the others `truncated` (an older version cut them; they say so).
"""

import zlib

from django.db import migrations, models

BATCH = 500


def keep_stored_messages(apps, schema_editor):
    RawNotification = apps.get_model("nautobot_ssot_circuit_maintenance", "RawNotification")
    batch = []
    for row in RawNotification.objects.only("pk", "raw", "raw_truncated").iterator(chunk_size=BATCH):
        row.message = zlib.compress(bytes(row.raw or b""), 6)
        row.message_kept = "truncated" if row.raw_truncated else "whole"
        batch.append(row)
        if len(batch) >= BATCH:
            RawNotification.objects.bulk_update(batch, ["message", "message_kept"])
            batch = []
    if batch:
        RawNotification.objects.bulk_update(batch, ["message", "message_kept"])


class Migration(migrations.Migration):
    dependencies = [
        ("nautobot_ssot_circuit_maintenance", "0005_maintenance_flags"),
    ]

    operations = [
        migrations.AddField(
            model_name="rawnotification",
            name="message",
            field=models.BinaryField(blank=True, default=b"", editable=False),
        ),
        migrations.AddField(
            model_name="rawnotification",
            name="message_kept",
            field=models.CharField(
                blank=True,
                choices=[
                    ("whole", "Whole message"),
                    ("head", "Head only (over max_message_mb)"),
                    ("truncated", "Truncated by an older version"),
                ],
                max_length=20,
            ),
        ),
        migrations.AddField(
            model_name="rawnotification",
            name="parser_version",
            field=models.CharField(blank=True, max_length=50),
        ),
        migrations.RunPython(keep_stored_messages, migrations.RunPython.noop),
    ]
