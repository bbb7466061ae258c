"""What the action tests share: a destination held in a SecretsGroup, rules, moving a maintenance, the real jobs."""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from django.utils import timezone
from nautobot.apps.testing import run_job_for_testing
from nautobot.extras.models import Job, Secret, SecretsGroup, SecretsGroupAssociation

from nautobot_ssot_circuit_maintenance.compat.releases import job_inputs
from nautobot_ssot_circuit_maintenance.models import ActionRule, CircuitMaintenance
from tests.fixtures.records import window

H = timedelta(hours=1)


def destination(name: str, url: str) -> SecretsGroup:
    """A SecretsGroup whose URL-type secret (an environment variable, set here) is the apprise `url`."""
    variable = f"CM_TEST_DESTINATION_{abs(hash(name))}"
    os.environ[variable] = url
    secret = Secret.objects.create(
        name=f"{name} URL", provider="environment-variable", parameters={"variable": variable}
    )
    group = SecretsGroup.objects.create(name=name)
    SecretsGroupAssociation.objects.create(secrets_group=group, secret=secret, access_type="Generic", secret_type="url")
    return group


def message_rule(name: str, group: SecretsGroup, **fields) -> ActionRule:
    """A rule that sends a message naming the maintenance and the occasion, at every transition unless told."""
    fields.setdefault("body_template", "{{ maintenance.maintenance_id }} {{ occasion }}")
    fields.setdefault("subject_template", "{{ maintenance.provider.name }}: {{ state }}")
    providers = fields.pop("providers", [])
    rule = ActionRule.objects.create(name=name, secrets_group=group, **fields)
    rule.providers.set(providers)
    return rule


def move(maintenance: CircuitMaintenance, start: datetime, end: datetime, **fields) -> CircuitMaintenance:
    """Give the maintenance one window from `start` to `end` (and these fields), saved."""
    maintenance.start_time, maintenance.end_time, maintenance.windows = start, end, [window(start, end)]
    for name, value in fields.items():
        setattr(maintenance, name, value)
    maintenance.save()
    return maintenance


def now() -> datetime:
    """The clock, to the second (windows are written in seconds)."""
    return timezone.now().replace(microsecond=0)


def run_job(test, class_name: str, expect: str = "SUCCESS", **inputs):
    """Run the app's job `class_name` as Nautobot runs it; assert its status."""
    job = Job.objects.get(job_class_name=class_name)
    job.enabled = True
    job.save()
    result = run_job_for_testing(job, **job_inputs(run_job_for_testing, inputs))
    test.assertEqual(result.status, expect, f"{test.job_log(result)}\n{result.traceback}")
    return result
