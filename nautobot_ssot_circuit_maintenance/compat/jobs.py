"""Nautobot: running a job in this process, in any thread."""

from __future__ import annotations

from typing import Any

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
    from nautobot.apps.choices import JobResultStatusChoices

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
    from nautobot.apps.choices import JobResultStatusChoices
    from nautobot.apps.utils import sanitize

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
    from nautobot.apps.choices import JobResultStatusChoices
    from nautobot.apps.utils import sanitize
    from nautobot.core.celery import app, setup_nautobot_job_logging
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
