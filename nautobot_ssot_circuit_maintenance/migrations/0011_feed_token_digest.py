# Written by hand: calendar feed tokens are kept as SHA-256 digests, no longer in clear.

import hashlib

from django.db import migrations, models

HINT_LENGTH = 4


def hash_keys(apps, schema_editor):
    """Every existing key becomes its digest (and hint): the addresses subscribers hold keep working."""
    CalendarFeedToken = apps.get_model("nautobot_ssot_circuit_maintenance", "CalendarFeedToken")
    for token in CalendarFeedToken.objects.all().only("pk", "key"):
        token.digest = hashlib.sha256(token.key.encode("utf-8", "surrogatepass")).hexdigest()
        token.hint = token.key[-HINT_LENGTH:]
        token.save(update_fields=["digest", "hint"])


def forget_tokens(apps, schema_editor):
    """Going back: a digest cannot give its key back, so the tokens go (users make new feed addresses)."""
    apps.get_model("nautobot_ssot_circuit_maintenance", "CalendarFeedToken").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("nautobot_ssot_circuit_maintenance", "0010_person_outranks_mail"),
    ]

    operations = [
        migrations.AddField(
            model_name="calendarfeedtoken",
            name="digest",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="calendarfeedtoken",
            name="hint",
            field=models.CharField(blank=True, default="", editable=False, max_length=8),
        ),
        migrations.RunPython(hash_keys, migrations.RunPython.noop),
        migrations.RemoveField(model_name="calendarfeedtoken", name="key"),
        migrations.AlterField(
            model_name="calendarfeedtoken",
            name="digest",
            field=models.CharField(editable=False, max_length=64, unique=True),
        ),
        # Forward nothing; backward, first of all, empty the table so the clear column can come back.
        migrations.RunPython(migrations.RunPython.noop, forget_tokens),
    ]
