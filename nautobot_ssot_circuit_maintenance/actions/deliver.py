"""Doing what an action rule says, once its run is claimed: send its message through apprise, or enqueue its job.

**Messages go through apprise**, one URL per destination whatever the service: `slack://…`, `workflows://…`
(Microsoft Teams), `mailto://…`/`mailtos://…` (e-mail over SMTP), `json://host/path` and `form://…` (any
webhook). The URL holds the destination's credentials, so it is read at the moment of sending from the rule's
SecretsGroup (its URL-type secret, access type HTTP(S) or Generic) and goes nowhere else: every error text is
scrubbed of the URL and of its parts (`destination_scrubber`) before it is stored or logged.

**Subject and body** are Jinja2 templates rendered by Nautobot's sandboxed environment (`render_jinja2`) over
`maintenance`, `reach` (its circuits as `reach.impacts`, `reach.locations`, `reach.interfaces`, `reach.devices`,
`reach.tenants`), `occasion` (what happened, e.g. "entered in progress"), `state` (the live state entered, for a
transition) and `rule`.

**A job** is enqueued with `JobResult.enqueue_job`, its `maintenance` input the maintenance's pk (the contract:
the job declares `maintenance = ObjectVar(model=CircuitMaintenance)`); it runs as the user of the run that fired
it. The action run records the JobResult; what the job then does is its own JobResult's story.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import apprise
import jinja2
from nautobot.core.utils.data import render_jinja2
from nautobot.extras.models import JobResult
from nautobot.extras.secrets.exceptions import SecretError

from nautobot_ssot_circuit_maintenance.actions.secrets import preferred_secret
from nautobot_ssot_circuit_maintenance.choices import ActionKindChoices
from nautobot_ssot_circuit_maintenance.compat.releases import job_inputs
from nautobot_ssot_circuit_maintenance.models.reach import Reach
from nautobot_ssot_circuit_maintenance.redaction import Scrubber

# Where a rule's destination URL is read from its SecretsGroup, the first access type found.
URL_ACCESS_TYPES = ("HTTP(S)", "Generic")
# Parts of a URL shorter than this are not taken for secrets (a port, "hook", "on").
SECRET_PART_LENGTH = 6


class ActionFailed(Exception):
    """The action could not be done; the message says why and holds no secret (it is stored and shown)."""


def destination_url(secrets_group: Any) -> str:
    """The apprise URL held by the group's URL-type secret (read now); ActionFailed when there is none."""
    if secrets_group is None:
        raise ActionFailed("The rule has no destination (SecretsGroup)")
    secret = preferred_secret(secrets_group, "url", URL_ACCESS_TYPES)
    if secret is None:
        raise ActionFailed(f"SecretsGroup {secrets_group.name!r} has no URL-type secret")
    try:
        url = secret.get_value() or ""
    except SecretError as error:
        raise ActionFailed(
            f"SecretsGroup {secrets_group.name!r}: its URL secret cannot be read ({type(error).__name__})"
        ) from None
    if not url.strip():
        raise ActionFailed(f"SecretsGroup {secrets_group.name!r}: its URL secret is empty")
    return url.strip()


def destination_scrubber(url: str) -> Scrubber:
    """A scrubber of the URL and of each part of it that may be a credential (user, password, tokens, query)."""
    parts = urlsplit(url)
    secrets = [url, parts.netloc, parts.username, parts.password]
    secrets += [unquote(segment) for segment in parts.path.split("/") if len(segment) >= SECRET_PART_LENGTH]
    secrets += [value for _, value in parse_qsl(parts.query) if len(value) >= SECRET_PART_LENGTH]
    return Scrubber(secret for secret in secrets if secret)


def render(template: str, context: dict[str, Any], what: str) -> str:
    """The template rendered in Nautobot's sandbox; ActionFailed (naming `what`) when it fails."""
    try:
        return render_jinja2(template, context)
    except jinja2.TemplateError as error:
        raise ActionFailed(f"The {what} template failed: {error}") from None


def message_context(rule: Any, maintenance: Any, reach: Reach, occasion_label: str, state: str | None) -> dict:
    """What the subject and body templates see."""
    return {"maintenance": maintenance, "reach": reach, "occasion": occasion_label, "state": state, "rule": rule}


def send_message(rule: Any, context: dict[str, Any]) -> str:
    """Render the rule's subject and body and send them to its destination; what apprise said, or ActionFailed."""
    subject = render(rule.subject_template, context, "subject").strip()
    body = render(rule.body_template, context, "body")
    url = destination_url(rule.secrets_group)
    scrub = destination_scrubber(url)
    notifier = apprise.Apprise()
    if not notifier.add(url):
        raise ActionFailed(f"SecretsGroup {rule.secrets_group.name!r}: its URL is not one apprise understands")
    with apprise.LogCapture(level=apprise.logging.WARNING) as logs:
        sent = notifier.notify(title=subject, body=body)
        said = logs.getvalue().strip()
    if not sent:
        raise ActionFailed(scrub(f"Not delivered: {said or 'the destination refused it'}")[:1000])
    service = urlsplit(url).scheme or "?"
    return f"Sent {subject!r} ({service})"


def enqueue_job(rule: Any, maintenance: Any, user: Any) -> str:
    """Enqueue the rule's job with the maintenance as its `maintenance` input; which JobResult, or ActionFailed."""
    job = rule.job
    if job is None:
        raise ActionFailed("The rule has no job")
    if not job.enabled or not job.installed:
        raise ActionFailed(f"Job {job.name!r} is not enabled")
    try:
        result = JobResult.enqueue_job(
            job, user, **job_inputs(JobResult.enqueue_job, {"maintenance": str(maintenance.pk)})
        )
    except Exception as error:  # noqa: BLE001 - whatever the queue says becomes the run's result, and it is retried
        raise ActionFailed(f"Job {job.name!r} could not be enqueued: {type(error).__name__}: {error}") from None
    return f"Job {job.name!r} enqueued: JobResult {result.pk} ({result.status})"


def perform(rule: Any, maintenance: Any, reach: Reach, occasion_label: str, state: str | None, user: Any) -> str:
    """Do what the rule says for the maintenance at this occasion; its result, or ActionFailed."""
    if rule.kind == ActionKindChoices.JOB:
        return enqueue_job(rule, maintenance, user)
    return send_message(rule, message_context(rule, maintenance, reach, occasion_label, state))
