"""The demo: providers and circuits, a sample mailbox, the sync job for real, and a summary.

Run by `./run demo` after migrations. Safe to run again: the second run says nothing changed.
"""

import logging
import os
import secrets
import sys
import time
from pathlib import Path

import structlog

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("NAUTOBOT_CONFIG", str(ROOT / "development" / "nautobot_config.py"))

import nautobot  # noqa: E402

nautobot.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.utils import timezone  # noqa: E402
from nautobot.extras.choices import JobExecutionType, JobResultStatusChoices  # noqa: E402
from nautobot.extras.models import Job, JobResult, ScheduledJob  # noqa: E402
from nautobot.users.models import Token  # noqa: E402
from nautobot_ssot.models import Sync  # noqa: E402

from development.demo_dates import move_to_today  # noqa: E402
from development.demo_mail import demo_messages  # noqa: E402
from nautobot_ssot_circuit_maintenance.compat.releases import job_inputs  # noqa: E402
from nautobot_ssot_circuit_maintenance.config import app_settings, push_enabled  # noqa: E402
from nautobot_ssot_circuit_maintenance.customers.drafts import draft_notices  # noqa: E402
from nautobot_ssot_circuit_maintenance.flags.store import refresh_flags  # noqa: E402
from nautobot_ssot_circuit_maintenance.intake.provision import sync_sources_from_config  # noqa: E402
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance, RawNotification  # noqa: E402
from nautobot_ssot_circuit_maintenance.sync import trigger  # noqa: E402
from nautobot_ssot_circuit_maintenance.sync.diffsync.run_diff import count_maintenance_actions  # noqa: E402
from tests.fixtures.customer_data import create_demo_customers  # noqa: E402
from tests.fixtures.sample_data import create_providers_and_circuits  # noqa: E402
from tests.fixtures.site_data import create_demo_sites  # noqa: E402

# One circuit stays unknown to Nautobot, to show how the app reports it.
MISSING_CIRCUIT = "dxlag-00000003"
# The demo's own files (its passwords and logs); a test runs the demo with a directory of its own.
STATE = Path(os.getenv("CM_DEMO_STATE", str(ROOT / "development" / ".state")))
ADMIN_FILE = STATE / "admin-password"
# The API token of the demo's Prometheus user (no permissions, read-only token), as docs/metrics.md describes.
METRICS_TOKEN_FILE = STATE / "metrics-token"
METRICS_PATH = "/api/plugins/capacity-metrics/app-metrics"
SCHEDULE_NAME = "Circuit maintenance sync, every 15 minutes"
SCHEDULE_CRONTAB = "*/15 * * * *"
# How long the demo waits for the Celery worker to run the sync.
WORKER_TIMEOUT_SECONDS = 600


def fill_mailbox() -> Path:
    source = settings.PLUGINS_CONFIG["nautobot_ssot_circuit_maintenance"]["notification_sources"][0]
    mailbox = Path(source["url"].removeprefix("file://"))
    mailbox.mkdir(parents=True, exist_ok=True)
    for name, raw in demo_messages().items():
        target = mailbox / f"{name}.eml"
        if not target.exists() or target.read_bytes() != raw:
            target.write_bytes(raw)
    return mailbox


def admin_user():
    user_model = get_user_model()
    ADMIN_FILE.parent.mkdir(parents=True, exist_ok=True)
    if not ADMIN_FILE.exists():
        ADMIN_FILE.write_text(secrets.token_urlsafe(12))
        ADMIN_FILE.chmod(0o600)
    password = ADMIN_FILE.read_text().strip()
    user, _ = user_model.objects.get_or_create(username="admin", defaults={"is_superuser": True, "is_staff": True})
    user.is_superuser = user.is_staff = True
    user.set_password(password)
    user.save()
    return user, password


def metrics_reader() -> Path:
    """The Prometheus user of docs/metrics.md: no permissions, a read-only token, kept in METRICS_TOKEN_FILE."""
    user, _ = get_user_model().objects.get_or_create(username="prometheus")
    token = Token.objects.filter(user=user).first() or Token.objects.create(user=user, write_enabled=False)
    METRICS_TOKEN_FILE.parent.mkdir(parents=True, exist_ok=True)
    METRICS_TOKEN_FILE.write_text(token.key)
    METRICS_TOKEN_FILE.chmod(0o600)
    return METRICS_TOKEN_FILE


SYNC_KWARGS = {
    "dryrun": False,
    "memory_profiling": False,
    "parallel_loading": False,
    "sources": [],
    "notifications": [],
}


def sync_job() -> Job:
    job = trigger.sync_job()
    if not job.enabled:
        job.enabled = True
        job.save()
    return job


def run_sync(user) -> JobResult:
    """Queue the sync as the Run button does; the Celery worker runs it (a synchronous run has no task name,
    so the SSoT dashboard would not count it)."""
    result = JobResult.enqueue_job(sync_job(), user, **job_inputs(JobResult.enqueue_job, SYNC_KWARGS))
    deadline = time.monotonic() + WORKER_TIMEOUT_SECONDS
    while result.status not in JobResultStatusChoices.READY_STATES:
        if time.monotonic() > deadline:
            raise SystemExit(f"The Celery worker did not run the sync within {WORKER_TIMEOUT_SECONDS} s.")
        time.sleep(1)
        result.refresh_from_db()
    return result


def schedule_sync(user) -> ScheduledJob:
    """A real (not dry-run) sync every 15 minutes, started by Celery beat, as docs/operate.md describes."""
    existing = ScheduledJob.objects.filter(name=SCHEDULE_NAME).first()
    if existing is not None:
        return existing
    return ScheduledJob.create_schedule(
        sync_job(),
        user,
        name=SCHEDULE_NAME,
        start_time=timezone.now(),
        interval=JobExecutionType.TYPE_CUSTOM,
        crontab=SCHEDULE_CRONTAB,
        **job_inputs(ScheduledJob.create_schedule, SYNC_KWARGS),
    )


def main() -> int:
    print("==> Loading demo providers and circuits")
    providers = create_providers_and_circuits(skip_cids=frozenset({MISSING_CIRCUIT}))
    sites = create_demo_sites(providers)
    print(f"==> Demo sites: {', '.join(site.name for site in sites)} (circuits cabled to their routers)")
    sync_sources_from_config()
    mailbox = fill_mailbox()
    print(f"==> Sample mailbox: {mailbox} ({len(list(mailbox.glob('*.eml')))} messages)")
    user, password = admin_user()
    before = set(RawNotification.objects.values_list("pk", flat=True))
    schedule = schedule_sync(user)
    print(f"==> Scheduled job: {schedule.name} (crontab {schedule.crontab}, dry run off)")
    print("==> Running the sync job (for real), queued to the Celery worker")
    result = run_sync(user)
    sync = Sync.objects.filter(job_result=result).first()
    new = RawNotification.objects.exclude(pk__in=before).order_by("location")
    # Maintenances only (the Sync's summary also counts their circuit impacts, diffsync children).
    actions = count_maintenance_actions(sync.diff if sync else None)
    created, updated = actions["create"], actions["update"]
    print(f"Job status: {result.status}")
    if sync:
        print(f"Sync time: {sync.source_load_time} load, {sync.sync_time} write")
    print(f"Messages read: {new.count()} new")
    for raw in new:
        provider = raw.provider.name if raw.provider else "-"
        print(f"  {raw.location:<32} {raw.outcome:<22} {provider:<21} {raw.subject[:50]}")
    print(f"Maintenances: {created} created, {updated} updated ({CircuitMaintenance.objects.count()} in Nautobot)")
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))  # no diffsync chatter
    moves = move_to_today(user)
    if moves:
        print(f"Moved {len(moves)} maintenances to dates around today (each an override by admin, saying so)")
    if not new.exists() and created == 0 and updated == 0:
        print("Nothing changed: every message in the mailbox was already synced.")
    flags = refresh_flags()  # after any change of dates: the flags follow the maintenances
    print(f"Isolation and lost-redundancy flags: {flags.flags} (see the pages of {', '.join(map(str, sites))})")
    customers = create_demo_customers()
    drafts = draft_notices()  # after the flags: they say how badly a device's tenant is hit
    print(
        f"Customer notices: {len(drafts.changes)} drafted for {', '.join(map(str, customers))} "
        "(Circuits → Customer Notices; approve one to send it)"
    )
    if (app_settings().get("metrics") or {}).get("enable"):
        token_file = metrics_reader()
        port = os.getenv("CM_DEMO_PORT", "8080")
        print(f'Metrics: curl -H "Authorization: Token $(cat {token_file})" http://127.0.0.1:{port}{METRICS_PATH}')
    if push_enabled():
        print(
            "Push and upload: Circuits → Circuit Maintenance → Raw Notifications → Upload .eml, "
            "or POST raw mail to the push endpoint (docs/push.md)"
        )
    print(f"Providers: {len(providers)}.  UI login: admin / {password}")
    return 0 if result.status == "SUCCESS" else 1


if __name__ == "__main__":
    sys.exit(main())
