"""Workarounds for the libraries under the app, each in one place with a test (tests/test_compat.py).

When a library changes what a workaround relies on, its test fails loudly instead of the app
misbehaving quietly.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

PARSER_LOGGER = "circuit_maintenance_parser"


def quiet_parser_logging() -> None:
    """circuit-maintenance-parser logs whole raw messages at ERROR on some failures.

    Mail is untrusted and may be large; the app records its own, bounded error per message instead.
    """
    logging.getLogger(PARSER_LOGGER).setLevel(logging.CRITICAL)


class _FastCharsetDetector:
    """Answers `chardet.detect` with cchardet (C, many times faster), in chardet's result shape."""

    @staticmethod
    def detect(data: bytes) -> dict[str, Any]:
        import cchardet

        return cchardet.detect(data)


def use_fast_charset_detection(enabled: bool = True) -> bool:
    """Answer the parser's charset detection with cchardet (the `faust-cchardet` package), or with chardet.

    Charset detection is most of the parser's time. Two places detect: BeautifulSoup's UnicodeDammit,
    which reads the module it chose at import from `bs4.dammit.chardet_module`, and the parser's
    `GenericProvider.filter_check`, which calls `chardet.detect` through the `chardet` name of its
    `provider` module. Both names are set here. Returns whether the fast detector is in use.
    tests/test_compat.py checks that both libraries still read those names, and that every corpus
    mail parses identically either way.
    """
    import chardet
    from bs4 import dammit
    from circuit_maintenance_parser import provider

    try:
        import cchardet
    except ImportError:
        cchardet, enabled = None, False
    provider.chardet = _FastCharsetDetector if enabled else chardet
    dammit.chardet_module = cchardet if enabled else chardet
    return enabled


# -- Nautobot: change logging for records written in bulk --------------------------------------------
# `bulk_create` sends no `post_save`, so Nautobot records no ObjectChange for it. Here the
# ObjectChanges are built the way Nautobot's change-logging signal handler builds them and written in
# one statement, inside the active change context, so the changelog, webhooks, job hooks and events
# see the same as for a save(). It reads two Nautobot internals: `change_context_state` (the active
# change context) and `_prefetched_objects_cache` (Django's, to say a new record has no tags and no
# related rows yet). The
# tests in tests/test_compat.py compare the result with what a save() records.


def as_new_record(instance) -> None:
    """Mark a just-created record's many-valued relations as known and empty (its tags, and every row that
    could point at it: none can yet), so serializing it for the changelog reads nothing per record."""
    cache = dict(getattr(instance, "_prefetched_objects_cache", {}))
    for field in instance._meta.many_to_many:
        cache[field.name] = _evaluated_empty(field.related_model)
    for relation in instance._meta.related_objects:
        if relation.one_to_many or relation.many_to_many:
            cache[relation.get_accessor_name()] = _evaluated_empty(relation.related_model)
    instance._prefetched_objects_cache = cache


def _evaluated_empty(model):
    """An empty queryset already evaluated: iterating it compiles no SQL (a bare `.none()` still does)."""
    empty = model.objects.none()
    empty._result_cache = []
    return empty


def _create_changes(instances: Sequence) -> list:
    """Each instance's create ObjectChange, as `to_objectchange` makes it, with the API serializer built once.

    `to_objectchange` builds a fresh serializer per record (its fields are constructed anew each time:
    most of the cost of logging a record). A model that overrides `to_objectchange` keeps its own.
    """
    from nautobot.core.api.exceptions import SerializerNotFound
    from nautobot.core.api.utils import get_serializer_for_model
    from nautobot.core.models.utils import serialize_object
    from nautobot.extras.choices import ObjectChangeActionChoices
    from nautobot.extras.constants import CHANGELOG_MAX_OBJECT_REPR
    from nautobot.extras.models import ChangeLoggedModel, ObjectChange

    model = type(instances[0])
    uniform = all(type(instance) is model for instance in instances)
    try:
        serializer_class = get_serializer_for_model(model)
    except SerializerNotFound:
        serializer_class = None
    if not uniform or serializer_class is None or model.to_objectchange is not ChangeLoggedModel.to_objectchange:
        return [instance.to_objectchange(ObjectChangeActionChoices.ACTION_CREATE) for instance in instances]
    context = {"request": None, "depth": 1, "exclude_m2m": False}
    data_v2 = serializer_class(list(instances), many=True, context=context).data
    return [
        ObjectChange(
            changed_object=instance,
            object_repr=str(instance)[:CHANGELOG_MAX_OBJECT_REPR],
            action=ObjectChangeActionChoices.ACTION_CREATE,
            object_data=serialize_object(instance),
            object_data_v2=data,
        )
        for instance, data in zip(instances, data_v2, strict=True)
    ]


def log_bulk_creations(instances: Sequence) -> int:
    """Record one create ObjectChange per instance in the current change context; return how many."""
    from nautobot.extras.constants import CHANGELOG_MAX_CHANGE_CONTEXT_DETAIL
    from nautobot.extras.context_managers import change_context_state
    from nautobot.extras.models import ObjectChange

    change_context = change_context_state.get()
    if change_context is None or not instances:
        return 0
    for instance in instances:
        as_new_record(instance)
    changes = []
    for instance, change in zip(instances, _create_changes(instances), strict=True):
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


# -- Nautobot 3.0 to 3.2: what the supported releases (and the Django under them) do differently -------
# The app supports Nautobot 3.0 to 3.2 (pyproject.toml). Nautobot 3.0 runs on Django 4.2, 3.1 and 3.2
# on Django 5.2. Where a name the app uses is not there on every one of them, it is looked up here, and
# tests/test_compat.py checks each lookup against the running release.


def generic_prefetch(lookup: str, querysets: list[Any]) -> Any:
    """Prefetch a generic foreign key, reading each model's rows through its queryset in `querysets`.

    Django 5's `GenericPrefetch` does it. Django 4.2 (Nautobot 3.0) has no way to give a generic
    foreign key's prefetch a queryset: there the plain lookup prefetches the same objects, and what
    the querysets would have joined (e.g. an interface's device) is read per object when used.
    """
    try:
        from django.contrib.contenttypes.prefetch import GenericPrefetch
    except ImportError:  # Django 4.2
        return lookup
    return GenericPrefetch(lookup, querysets)


def data_compliance_view_mixin() -> type:
    """Nautobot's view-set mixin for an object's Data Compliance tab.

    Nautobot 3.0.0 defines it in `nautobot.core.views.mixins` without exporting it from
    `nautobot.apps.views` (later 3.0.x releases and 3.1+ export it): prefer the public name, else
    the module that defines it.
    """
    try:
        from nautobot.apps.views import ObjectDataComplianceViewMixin
    except ImportError:  # Nautobot 3.0.0
        from nautobot.core.views.mixins import ObjectDataComplianceViewMixin
    return ObjectDataComplianceViewMixin


def collapsed_panel_options() -> dict[str, Any]:
    """The keyword arguments that make a UI panel start collapsed: `collapsed=True` since Nautobot 3.2.

    Nautobot 3.0 and 3.1 panels take no `collapsed` (an unknown keyword is a TypeError at import):
    there the panel starts open. Nautobot 3.2 declares it as a class attribute of `Panel`.
    """
    from nautobot.apps.ui import Panel

    return {"collapsed": True} if hasattr(Panel, "collapsed") else {}


def validated_object(validator: Any) -> Any:
    """The object a `CustomValidator` is checking.

    Nautobot 3.1 and later put it in the validator's context as `obj` (and, deprecated until 4.0, as
    `object`); Nautobot 3.0 only as `object`.
    """
    context = validator.context
    return context["obj"] if "obj" in context else context["object"]


def job_inputs(function: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments that give a job its `inputs` through `function`.

    Nautobot 3.2's `JobResult.enqueue_job` / `execute_job`, `ScheduledJob.create_schedule` and
    `nautobot.apps.testing.run_job_for_testing` take them as one `job_kwargs` dict (and require it);
    Nautobot 3.0 and 3.1 take them as keyword arguments of their own, where a `job_kwargs=` would reach
    the job as an input of that name. So: `JobResult.enqueue_job(job, user, **job_inputs(JobResult.enqueue_job,
    {"dryrun": False}))`.
    """
    import inspect

    parameter = inspect.signature(function).parameters.get("job_kwargs")
    # Nautobot 3.0 names the catch-all `**job_kwargs`: that one takes the inputs one by one.
    if parameter is not None and parameter.kind is not inspect.Parameter.VAR_KEYWORD:
        return {"job_kwargs": inputs}
    return dict(inputs)


# A circuit termination's cable paths: Nautobot 3.2 gives every path endpoint a `cable_paths` generic
# relation (several paths per endpoint, one per lane); Nautobot 3.0 and 3.1 a `_path` foreign key to
# the one path that starts there.


def cable_paths_lookup() -> str:
    """The ORM lookup from a path endpoint (e.g. a circuit termination) to its cable paths."""
    from nautobot.circuits.models import CircuitTermination

    return "cable_paths" if hasattr(CircuitTermination, "cable_paths") else "_path"


def cable_paths(endpoint: Any) -> list[Any]:
    """The cable paths that start at `endpoint` (reads a prefetch of `cable_paths_lookup()` when there is one)."""
    if cable_paths_lookup() == "cable_paths":
        return list(endpoint.cable_paths.all())
    return [endpoint._path] if endpoint._path_id else []


# -- UI: a table panel whose rows are not one filter of the page's object -----------------------------


def has_table_queryset_hook() -> bool:
    """Nautobot 3.2's `ObjectsTablePanel.get_table_data_queryset(instance, request)`: the panel's base rows."""
    from nautobot.apps.ui import ObjectsTablePanel

    return hasattr(ObjectsTablePanel, "get_table_data_queryset")


class _WithRows:
    """The page's object, plus the rows of one table panel under `TableRowsPanelMixin.ROWS_ATTRIBUTE`."""

    def __init__(self, instance: Any, rows: Any) -> None:
        self._instance = instance
        self.compat_table_rows = rows

    def __getattr__(self, name: str) -> Any:
        return getattr(self._instance, name)


class TableRowsPanelMixin:
    """Put before `ObjectsTablePanel` and define `get_table_data_queryset(instance, request)` (the rows, unrestricted).

    Nautobot 3.2 calls that method itself. Nautobot 3.0 and 3.1 only filter the table's model by
    `table_filter=<the page's object>` or read `table_attribute` of the object: there the panel reads
    `table_attribute` of a stand-in for the object that carries the rows. Pass `related_field_name` for
    the panel's "all" link, as `table_filter` is set aside on those releases.
    """

    ROWS_ATTRIBUTE = "compat_table_rows"

    def __init__(self, **kwargs: Any) -> None:
        if not has_table_queryset_hook():
            kwargs.pop("table_filter", None)
            kwargs["table_attribute"] = self.ROWS_ATTRIBUTE
        super().__init__(**kwargs)

    def get_extra_context(self, context: Any) -> Any:
        if has_table_queryset_hook():
            return super().get_extra_context(context)
        from nautobot.core.views.utils import get_obj_from_context

        instance = get_obj_from_context(context)
        stand_in = _WithRows(instance, self.get_table_data_queryset(instance, context["request"]))
        with context.update({"obj": stand_in, "object": stand_in}):
            return super().get_extra_context(context)


# -- Nautobot: running a job in this process, in any thread ---------------------------------------------
# `JobResult.execute_job` runs a job in the calling process, but it first installs a SIGALRM handler for
# the job's soft time limit: Python allows that only in the main thread, so on a threaded web server
# (runserver, gunicorn with threads, uWSGI with threads) it raises "signal only works in main thread"
# after the JobResult was already saved as STARTED, and the JobResult stays STARTED for good. It also
# redirects the process's stdout and stderr while the job runs, which other threads would see.
# `run_job_here` does what its synchronous branch does (and what Nautobot's own `execute_job_result`
# command does) without either: create the JobResult with the job's Celery options, mark it STARTED,
# hook up the job's database logging, run Nautobot's `run_job` task eagerly in this thread, and copy the
# eager result onto the JobResult. tests/test_compat.py pins it against `execute_job` on the same job.

JOB_FAILURE_TEXT_LENGTH = 500


def _job_celery_options(job_model: Any, user: Any) -> dict[str, Any]:
    """The Celery options `enqueue_job` stores on a JobResult (the job reads its own from there)."""
    from nautobot.extras.models import JobResult

    queue = job_model.default_job_queue
    build = getattr(JobResult, "_build_celery_kwargs", None)
    if build is not None:  # Nautobot 3.2
        return build(job_model=job_model, user=user, task_queue=queue.name)
    options = {
        "nautobot_job_job_model_id": str(job_model.id),
        "nautobot_job_profile": False,
        "nautobot_job_user_id": str(user.id),
        "nautobot_job_ignore_singleton_lock": False,
        "queue": queue.name,
    }
    if job_model.soft_time_limit > 0:
        options["soft_time_limit"] = job_model.soft_time_limit
    if job_model.time_limit > 0:
        options["time_limit"] = job_model.time_limit
    return options


def job_failure_text(job_result: Any) -> str:
    """Why a finished JobResult failed, in one bounded line ("" when it did not fail or says nothing)."""
    from nautobot.extras.choices import JobResultStatusChoices

    if job_result is None or job_result.status == JobResultStatusChoices.STATUS_SUCCESS:
        return ""
    result = job_result.result
    if isinstance(result, dict) and (result.get("exc_type") or result.get("exc_message")):
        text = ": ".join(str(part) for part in (result.get("exc_type"), result.get("exc_message")) if part)
    elif isinstance(result, str):
        text = result
    else:
        text = ""
    text = " ".join(text.split())
    return text if len(text) <= JOB_FAILURE_TEXT_LENGTH else text[: JOB_FAILURE_TEXT_LENGTH - 1] + "…"


def _fail(job_result: Any, error: BaseException) -> None:
    """End a JobResult that is not finished as FAILURE, with `error` as its reason."""
    import traceback

    from django.utils import timezone
    from nautobot.core.utils.logging import sanitize
    from nautobot.extras.choices import JobResultStatusChoices

    job_result.refresh_from_db()
    if job_result.status in JobResultStatusChoices.READY_STATES:
        return
    job_result.status = JobResultStatusChoices.STATUS_FAILURE
    job_result.result = {"exc_type": type(error).__name__, "exc_message": sanitize(str(error))}
    job_result.traceback = sanitize("".join(traceback.format_exception(error)))
    job_result.date_done = job_result.date_done or timezone.now()
    job_result.save()


def run_job_here(job_model: Any, user: Any, inputs: dict[str, Any]) -> Any:
    """Run `job_model` with `inputs` now, in this thread (any thread), as `user`; its finished JobResult.

    The job runs as `execute_job` runs it — the same task, JobResult, job log and status — without the
    soft time limit (a signal only the main thread may set): keep what it does bounded by other means.
    The JobResult is never left unfinished: whatever goes wrong ends it FAILURE with the reason.
    """
    from django.utils import timezone
    from nautobot.core.celery import app, setup_nautobot_job_logging
    from nautobot.core.utils.logging import sanitize
    from nautobot.extras.choices import JobResultStatusChoices
    from nautobot.extras.jobs import run_job
    from nautobot.extras.models import JobResult

    job_result = JobResult.objects.create(name=job_model.name, job_model=job_model, user=user)
    try:
        options = _job_celery_options(job_model, user)
        job_result.celery_kwargs = options
        job_result.date_started = timezone.now()
        job_result.status = JobResultStatusChoices.STATUS_STARTED
        job_result.save()
        setup_nautobot_job_logging(None, None, app.conf)
        eager = run_job.apply(args=[job_model.class_path], kwargs=inputs, task_id=str(job_result.id), **options)
        job_result.refresh_from_db()
        # The task may have recorded its own end (a failure reported through `update_state`): a finished
        # status stands; otherwise the eager result's.
        if job_result.status not in JobResultStatusChoices.READY_STATES:
            job_result.status = eager.status
            failure = eager.result
            if eager.status in JobResultStatusChoices.EXCEPTION_STATES and isinstance(failure, BaseException):
                job_result.result = {"exc_type": type(failure).__name__, "exc_message": sanitize(str(failure))}
                if eager.traceback:
                    job_result.traceback = sanitize(eager.traceback)
            elif eager.result is not None:
                job_result.result = sanitize(eager.result)
        job_result.date_done = job_result.date_done or timezone.now()
        job_result.save()
    except BaseException as error:
        _fail(job_result, error)
        if not isinstance(error, Exception):
            raise
    if job_result.status not in JobResultStatusChoices.READY_STATES:
        _fail(job_result, RuntimeError(f"the job ended in state {job_result.status}"))
    return job_result


# -- Django: a response the app has logged itself -----------------------------------------------------
# Django's `django.utils.log.log_response` writes "Not Found: <path>" (and the like) for every 4xx/5xx
# answer, unless the response carries `_has_been_logged`. The calendar feed's path can hold its token,
# so the feed logs its own line without it and marks the response (tests/calendar/test_calendar.py pins this).


def mark_response_logged(response: Any) -> Any:
    """Tell Django's request logging that `response` is already logged (it then writes nothing)."""
    response._has_been_logged = True
    return response


# -- DRF: a failed CSRF check in a UI view set ----------------------------------------------------------
# Nautobot's UI view sets are DRF views (csrf_exempt for Django's middleware); DRF's session
# authentication checks CSRF itself and raises PermissionDenied("CSRF Failed: <reason>"), after which
# the request has no user, and the page renderer's object lookup answered 404. The app's view sets
# answer such a failure with Django's CSRF failure view (Nautobot's page), as a plain view would.
# tests/views/test_access.py pins the message prefix.
CSRF_FAILED_PREFIX = "CSRF Failed: "


def csrf_failure_reason(exc: BaseException) -> str | None:
    """Django's reason ("CSRF token missing.") when `exc` is DRF's CSRF refusal, else None."""
    from rest_framework.exceptions import PermissionDenied  # DRF loads Django settings: not at import

    detail = str(getattr(exc, "detail", ""))
    if isinstance(exc, PermissionDenied) and detail.startswith(CSRF_FAILED_PREFIX):
        return detail[len(CSRF_FAILED_PREFIX) :]
    return None
