"""Pushed and uploaded messages stored before the fix were labelled `head` although their whole message is stored:
label them `whole` where the stored message is all of it, so they can be reprocessed and re-parsed."""

import zlib

from django.db import migrations

BATCH = 200


def whole_length(packed: bytes, size: int) -> int:
    """The length of the stored (compressed) message, reading at most one byte past `size`."""
    return len(zlib.decompressobj().decompress(bytes(packed), size + 1)) if packed else 0


def label_whole(apps, schema_editor):
    raw_notification = apps.get_model("nautobot_ssot_circuit_maintenance", "RawNotification")
    candidates = raw_notification.objects.filter(source__name="pushed", message_kept="head").values_list(
        "pk", "raw_size"
    )
    whole = []
    for pk, size in candidates.iterator(chunk_size=BATCH):
        packed = raw_notification.objects.filter(pk=pk).values_list("message", flat=True).first()
        try:
            if size and whole_length(packed, size) == size:
                whole.append(pk)
        except zlib.error:
            continue  # not what the app stores: left as it is
    for start in range(0, len(whole), BATCH):
        raw_notification.objects.filter(pk__in=whole[start : start + BATCH]).update(message_kept="whole")


class Migration(migrations.Migration):
    dependencies = [
        ("nautobot_ssot_circuit_maintenance", "0013_override_circuits"),
    ]

    operations = [migrations.RunPython(label_whole, migrations.RunPython.noop)]
