"""Nautobot 3.0 to 3.2: what the supported releases (and the Django under them) do differently."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

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


def request_cache() -> AbstractContextManager:
    """Nautobot's in-process cache of model-metadata lookups (custom fields, relationships) for one block.

    Nautobot 3.2 wraps each web request in it; a job that serializes thousands of records for the change log
    gains as much. A release without it answers every lookup from Redis, as before: nothing is cached here.
    """
    try:
        from nautobot.core.utils.cache import request_cache as nautobot_request_cache
    except ImportError:  # before Nautobot 3.2
        return nullcontext()
    return nautobot_request_cache()
