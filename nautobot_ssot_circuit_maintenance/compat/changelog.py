"""Nautobot: change logging for records written in bulk."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

# -- Nautobot: change logging for records written in bulk --------------------------------------------
# `bulk_create` sends no `post_save`, so Nautobot records no ObjectChange for it. Here the
# ObjectChanges are built the way Nautobot's change-logging signal handler builds them and written in
# one statement, inside the active change context, so the changelog, webhooks, job hooks and events
# see the same as for a save(). It reads two Nautobot internals: `change_context_state` (the active
# change context) and `_prefetched_objects_cache` (Django's, to say a new record has no tags and no
# related rows yet). The
# tests in tests/test_compat.py compare the result with what a save() records.
#
# Nautobot's and Django's model modules are imported inside the functions: models/ imports this module while
# Django is still loading the app registry, before `nautobot.extras.models` or the user model can be imported.


def as_new_record(instance, empties: dict | None = None) -> None:
    """Mark a just-created record's many-valued relations as known and empty.

    That is its tags, and every row that could point at it (none can yet), so serializing it for the changelog
    reads nothing per record. `empties` (model → its evaluated empty queryset) lets records share them.
    """
    empties = {} if empties is None else empties
    cache = dict(getattr(instance, "_prefetched_objects_cache", {}))
    for field in instance._meta.many_to_many:
        cache[field.name] = _evaluated_empty(field.related_model, empties)
    for relation in instance._meta.related_objects:
        if relation.one_to_many or relation.many_to_many:
            cache[relation.get_accessor_name()] = _evaluated_empty(relation.related_model, empties)
    instance._prefetched_objects_cache = cache


def _evaluated_empty(model, empties: dict):
    """An empty queryset already evaluated: iterating it compiles no SQL (a bare `.none()` still does).

    Read-only and empty, one per model serves every record of a bulk write (`empties`).
    """
    if model not in empties:
        empty = model.objects.none()
        empty._result_cache = []
        empties[model] = empty
    return empties[model]


def _object_changes(instances: Sequence, action: str) -> list:
    """Each instance's ObjectChange for `action`, as `to_objectchange` makes it, with the API serializer built once.

    `to_objectchange` builds a fresh serializer per record (its fields are constructed anew each time:
    most of the cost of logging a record). A model that overrides `to_objectchange` keeps its own.
    """
    from nautobot.core.api.exceptions import SerializerNotFound
    from nautobot.core.api.utils import get_serializer_for_model
    from nautobot.core.models.utils import serialize_object
    from nautobot.extras.constants import CHANGELOG_MAX_OBJECT_REPR
    from nautobot.extras.models import ChangeLoggedModel, ObjectChange

    model = type(instances[0])
    uniform = all(type(instance) is model for instance in instances)
    try:
        serializer_class = get_serializer_for_model(model)
    except SerializerNotFound:
        serializer_class = None
    if not uniform or serializer_class is None or model.to_objectchange is not ChangeLoggedModel.to_objectchange:
        return [instance.to_objectchange(action) for instance in instances]
    context = {"request": None, "depth": 1, "exclude_m2m": False}
    data_v2 = serializer_class(list(instances), many=True, context=context).data
    return [
        ObjectChange(
            changed_object=instance,
            object_repr=str(instance)[:CHANGELOG_MAX_OBJECT_REPR],
            action=action,
            object_data=serialize_object(instance),
            object_data_v2=data,
        )
        for instance, data in zip(instances, data_v2, strict=True)
    ]


def _log_bulk(instances: Sequence, action: str) -> int:
    """Record one ObjectChange per instance for `action` in the current change context; return how many."""
    from nautobot.extras.constants import CHANGELOG_MAX_CHANGE_CONTEXT_DETAIL
    from nautobot.extras.context_managers import change_context_state
    from nautobot.extras.models import ObjectChange

    change_context = change_context_state.get()
    if change_context is None or not instances:
        return 0
    changes = []
    for instance, change in zip(instances, _object_changes(instances, action), strict=True):
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


def log_bulk_creations(instances: Sequence) -> int:
    """Record one create ObjectChange per instance in the current change context; return how many."""
    from nautobot.extras.choices import ObjectChangeActionChoices

    empties: dict = {}
    for instance in instances:
        as_new_record(instance, empties)
    return _log_bulk(instances, ObjectChangeActionChoices.ACTION_CREATE)


def log_bulk_updates(instances: Sequence) -> int:
    """Record one update ObjectChange per instance (as it is now) in the current change context; return how many.

    For records updated with `bulk_update`, which sends no `post_save`. Pass them with their many-valued
    relations prefetched (tags at least), or the serializer reads them record by record.
    """
    from nautobot.extras.choices import ObjectChangeActionChoices

    return _log_bulk(instances, ObjectChangeActionChoices.ACTION_UPDATE)


# -- Nautobot: which models are change-logged, read once per job --------------------------------------
# When a job ends, Nautobot dispatches the Job Hooks of each ObjectChange it made (`web_request_context`
# calls `nautobot.extras.jobs.enqueue_job_hooks` per change), and each call asks Redis for the
# queryset of change-logged models and unpickles it: about 3 ms per change, seconds for a backlog that
# creates thousands of maintenances. The answer changes only with migrations, so for the duration of our
# jobs the name `change_logged_models_queryset` in `nautobot.extras.jobs` answers from one lookup.
# tests/test_compat.py pins the name and that Job Hooks still fire.


@contextmanager
def change_logged_models_read_once() -> Iterator[None]:
    """Inside, Nautobot's Job Hook dispatch reads the change-logged models once instead of once per change."""
    from nautobot.extras import jobs as nautobot_jobs  # Nautobot's jobs module imports the app's models

    current = nautobot_jobs.change_logged_models_queryset
    if getattr(current, "read_once", False):
        yield
        return
    once = functools.cache(current)
    once.read_once = True
    nautobot_jobs.change_logged_models_queryset = once
    try:
        yield
    finally:
        nautobot_jobs.change_logged_models_queryset = current


def change_context_user() -> Any:
    """The user of the current web request or job, if any (read from Nautobot's active change context)."""
    from nautobot.extras.context_managers import change_context_state

    context = change_context_state.get()
    user = context.get_user() if context is not None else None
    return user if getattr(user, "is_authenticated", False) else None


# The account the app's own change-logged saves are made as when no job or request is changing things (a shell):
# inactive, with no usable password, so nobody can log in as it.
SYSTEM_USERNAME = "circuit-maintenance-system"


def system_user() -> Any:
    """The app's own account for change logging outside a job or request (created, inactive, on first use)."""
    from django.contrib.auth import get_user_model  # at call time: see the note at the top

    user, created = get_user_model().objects.get_or_create(username=SYSTEM_USERNAME, defaults={"is_active": False})
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


@contextmanager
def change_logged(context_detail: str) -> Iterator[None]:
    """Change-log the saves inside: in the active change context (a job's, a request's), else in one of our own.

    Our own is Nautobot's ORM change context as the app's `system_user`, named `context_detail`; at its end
    Nautobot dispatches the Webhooks, Job Hooks and change events of what was saved, as at the end of a job.
    """
    from nautobot.extras.context_managers import change_context_state, web_request_context  # see the top

    if change_context_state.get() is not None:
        yield
        return
    with web_request_context(system_user(), context_detail=context_detail):
        yield
