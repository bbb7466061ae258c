"""Change logging for records this app writes in bulk.

`bulk_create` sends no `post_save`, so Nautobot records no ObjectChange for it. Here the
ObjectChanges are built the way Nautobot builds them and written in one statement, inside the
active change context: the changelog, webhooks, job hooks and events see the same as for a save().
"""

from __future__ import annotations

from collections.abc import Sequence

from nautobot.extras.choices import ObjectChangeActionChoices
from nautobot.extras.constants import CHANGELOG_MAX_CHANGE_CONTEXT_DETAIL
from nautobot.extras.context_managers import change_context_state
from nautobot.extras.models import ObjectChange, Tag


def without_tags(instance) -> None:
    """Mark a new, untagged record's tags as known, so serializing it for the changelog reads no tags."""
    cache = getattr(instance, "_prefetched_objects_cache", {})
    instance._prefetched_objects_cache = {**cache, "tags": Tag.objects.none()}


def log_bulk_creations(instances: Sequence) -> int:
    """Record one create ObjectChange per instance in the current change context; return how many."""
    change_context = change_context_state.get()
    if change_context is None or not instances:
        return 0
    changes = []
    for instance in instances:
        change = instance.to_objectchange(ObjectChangeActionChoices.ACTION_CREATE)
        if change is None:
            continue
        user = change_context.get_user(instance)
        change.user = user
        change.user_name = user.username if user is not None else "Undefined"
        change.request_id = change_context.change_id
        change.change_context = change_context.context
        change.change_context_detail = change_context.context_detail[:CHANGELOG_MAX_CHANGE_CONTEXT_DETAIL]
        changes.append(change)
    ObjectChange.objects.bulk_create(changes, batch_size=500)
    return len(changes)
