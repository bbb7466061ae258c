"""The benchmark's stored history: years of maintenances and their notifications, seeded in SQL and kept.

A NOC's database after years of mail: `maintenances` maintenances with `notices` notifications each (one
RawNotification and one ParsedNotification per notice, as the sync stores a parsed notice), their circuit
impacts, and the other mail a mailbox gets (ignored, unparsable, from unknown senders). Most of it is history,
before the corpus's own dates (the mail the benchmark then sends announces new work, it does not reschedule
the past); one in a hundred maintenances is *current*: from a month ago to two months ahead of now, with
upcoming, ongoing and unacknowledged ones, unknown circuit IDs and a triage queue, so the pages that show what
is on now have data.

Seeding is not what is measured: it is bulk SQL (`INSERT … SELECT generate_series`), a few minutes for
100,000 maintenances and 1,000,000 notices. The history is kept between benchmark runs: its source's cursor
records its shape once it is complete, and a later run with the same shape reuses it. The current slice is
rebuilt on every run (a few seconds), since "now" moves. `drop_store` removes it all.

The benchmark keeps the store in a database of its own (`store_database`), a copy of the benchmark's
database, so that the same run also measures on the database without it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.management import call_command
from django.db import connections, models, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone as dj_timezone
from nautobot.extras.models import ObjectChange
from nautobot_ssot.models import Sync

from nautobot_ssot_circuit_maintenance.events.live import record_due_transitions
from nautobot_ssot_circuit_maintenance.mail.packing import parser_version
from nautobot_ssot_circuit_maintenance.models import (
    CircuitMaintenance,
    MaintenanceFlag,
    NotificationSource,
    ParsedNotification,
    RawNotification,
)
from nautobot_ssot_circuit_maintenance.models.querysets import starting_soon_hours
from nautobot_ssot_circuit_maintenance.sync.jobs import CircuitMaintenanceDataSource
from tests.fixtures.sample_data import corpus_messages, expected_maintenances

STORE_SOURCE_NAME = "Benchmark store"
# Maintenance ids and message keys of the store; the current slice's are a subset (rebuilt on each run).
STORE_PREFIX = "STORE-"
CURRENT_PREFIX = "STORE-NOW-"
STORE_KEY_PREFIX = "<store-"
CURRENT_KEY_PREFIX = "<store-now-"
MARK = "-BENCH"
# Bumped when the seeding changes what it stores: a store of an older version is seeded again.
SEED_VERSION = 2
# The cursor key of the store's source that says the history is complete, and its shape.
MARKER = "benchmark_store"
# Who the store's change log says made the maintenances: the sync job, run by the benchmark's user.
CHANGE_USER = "admin"
CHANGE_CONTEXT_DETAIL = f"{CircuitMaintenanceDataSource.__module__}.{CircuitMaintenanceDataSource.__name__}"
# Past maintenances a day: 100,000 make five and a half years of history.
HISTORY_PER_DAY = 50
# Maintenances per INSERT batch (each with its notices): progress is printed between batches.
BATCH = 10_000
# What the stored mail looks like: a plain-text provider notice of about 2 KB.
FILLER = (
    "During this window the services listed above may experience one or more interruptions. "
    "Our engineers will work to keep the impact as short as possible. If you have any questions "
    "regarding this maintenance, please contact our Network Operations Center and quote the "
    "maintenance ID above. We apologise for any inconvenience this may cause. "
) * 5


@dataclass(frozen=True)
class StoreShape:
    """How large a store is: `maintenances` in all (history and current slice), `notices` notifications each."""

    maintenances: int
    notices: int

    @property
    def current(self) -> int:
        """Maintenances around now (rebuilt on every run): one in a hundred, at least one."""
        return min(self.maintenances, max(1, self.maintenances // 100))

    @property
    def history(self) -> int:
        """Past maintenances (kept between runs)."""
        return self.maintenances - self.current

    @property
    def history_days(self) -> int:
        """Days the history spans, `HISTORY_PER_DAY` maintenances a day."""
        return self.history // HISTORY_PER_DAY + 1

    @property
    def other_mail(self) -> int:
        """Stored mail that is no maintenance notice (ignored, unparsable, unknown senders), in the history."""
        return self.maintenances // 20

    @property
    def current_other_mail(self) -> int:
        """Such mail of the last month (the triage queue's part of it is not dismissed yet)."""
        return max(1, self.current // 10)

    @property
    def marker(self) -> dict:
        """What the store's source records once the history of this shape is complete."""
        return {"maintenances": self.maintenances, "notices": self.notices, "version": SEED_VERSION}


@dataclass
class StoreReport:
    """What `ensure_store` did: whether it seeded the history or reused it, and how long it took."""

    shape: StoreShape
    seeded: bool
    seconds: float


def store_source() -> NotificationSource:
    """The source the store's mail is attributed to (no configured source: the sync never reads it).

    With the sync run that stored it (`last_sync`): the sync records its run on every notification it stores.
    """
    source, _ = NotificationSource.objects.get_or_create(name=STORE_SOURCE_NAME, defaults={"source_type": "file"})
    if source.last_sync_id is None:
        end = history_end()
        sync = Sync.objects.create(
            source=CircuitMaintenanceDataSource.Meta.data_source,
            target=CircuitMaintenanceDataSource.Meta.data_target,
            start_time=end,
            dry_run=False,
            diff={},
            summary={"create": 0, "update": 0, "delete": 0, "no-change": 0, "skip": 0},
        )
        NotificationSource.objects.filter(pk=source.pk).update(last_sync=sync, last_run_started=end, last_run=end)
        source.refresh_from_db()
    return source


def store_is_complete(shape: StoreShape) -> bool:
    """Whether a complete history of this shape (and seeding version) is stored."""
    source = NotificationSource.objects.filter(name=STORE_SOURCE_NAME).first()
    return source is not None and (source.cursor or {}).get(MARKER) == shape.marker


def ensure_store(shape: StoreShape, *, progress: bool = False, batch: int = BATCH) -> StoreReport:
    """The store of this shape: the history reused when complete, else (re)seeded; the current slice afresh."""
    started = time.perf_counter()
    seeded = not store_is_complete(shape)
    if seeded:
        drop_store()
        source = store_source()
        seed_history(shape, source, progress=progress, batch=batch)
        NotificationSource.objects.filter(pk=source.pk).update(cursor={MARKER: shape.marker})
    seed_current(shape, store_source())
    return StoreReport(shape=shape, seeded=seeded, seconds=time.perf_counter() - started)


def drop_store(*, current_only: bool = False) -> None:
    """Remove the store's records (only its current slice with `current_only`), in SQL."""
    maintenance_prefix, key_prefix = (
        (CURRENT_PREFIX, CURRENT_KEY_PREFIX) if current_only else (STORE_PREFIX, STORE_KEY_PREFIX)
    )
    raws = RawNotification.objects.filter(message_key__startswith=key_prefix)
    ParsedNotification.objects.filter(raw_notification__in=raws)._raw_delete(ParsedNotification.objects.db)
    raws._raw_delete(raws.db)
    delete_maintenances(
        CircuitMaintenance.objects.filter(maintenance_id__startswith=maintenance_prefix, maintenance_id__endswith=MARK)
    )
    if not current_only:
        sync_ids = list(NotificationSource.objects.filter(name=STORE_SOURCE_NAME).values_list("last_sync", flat=True))
        NotificationSource.objects.filter(name=STORE_SOURCE_NAME).update(cursor={}, last_sync=None)
        syncs = Sync.objects.filter(pk__in=[pk for pk in sync_ids if pk])
        syncs._raw_delete(syncs.db)


def delete_maintenances(maintenances: models.QuerySet) -> None:
    """Delete these maintenances, their change log and what hangs on them in SQL, without loading them.

    Every relation to CircuitMaintenance is followed as its `on_delete` says (cascade: deleted; set null:
    cleared; many-to-many: the links deleted); flags left with no maintenance go too.
    """
    pks = maintenances.values("pk")
    changes = ObjectChange.objects.filter(
        changed_object_type=ContentType.objects.get_for_model(CircuitMaintenance), changed_object_id__in=pks
    )
    changes._raw_delete(changes.db)
    for relation in CircuitMaintenance._meta.related_objects:
        if relation.many_to_many:
            through = relation.through
            column = next(
                field.name
                for field in through._meta.get_fields()
                if getattr(field, "related_model", None) is CircuitMaintenance
            )
            links = through.objects.filter(**{f"{column}__in": pks})
            links._raw_delete(links.db)
            continue
        related = relation.related_model._base_manager.filter(**{f"{relation.field.name}__in": pks})
        if relation.on_delete is models.CASCADE:
            related._raw_delete(related.db)
        else:
            related.update(**{relation.field.name: None})
    orphans = MaintenanceFlag.objects.filter(maintenances__isnull=True)
    for through in (MaintenanceFlag.circuits.through,):
        links = through.objects.filter(maintenanceflag__in=orphans)
        links._raw_delete(links.db)
    orphans._raw_delete(orphans.db)
    maintenances._raw_delete(maintenances.db)


def history_end() -> datetime:
    """Where the history ends: a month before the earliest maintenance the corpus's mail announces."""
    earliest = min(
        datetime.fromtimestamp(m["start"], tz=timezone.utc)
        for name, _, _ in corpus_messages()
        for m in expected_maintenances(name)
    )
    return earliest.replace(minute=0, second=0, microsecond=0) - timedelta(days=30)


def seed_history(shape: StoreShape, source: NotificationSource, *, progress: bool = False, batch: int = BATCH) -> None:
    """Store the history in batches: maintenances, impacts, notices (raw and parsed), then the other mail."""
    end = history_end()
    with connections["default"].cursor() as cursor:
        _circuits_table(cursor)
        cursor.execute("DROP TABLE IF EXISTS bench_store_m")
        cursor.execute(HISTORY_MAINTENANCES, {"count": shape.history, "history_end": end, "per_day": HISTORY_PER_DAY})
        for first in range(0, shape.history, batch):
            last = min(first + batch, shape.history)
            with transaction.atomic():
                _insert_batch(cursor, shape, source, first, last, now=dj_timezone.now())
            if progress:
                print(f"  stored {last:,} of {shape.history:,} past maintenances", flush=True)
        cursor.execute(
            OTHER_MAIL,
            _other_mail_params(source, shape.other_mail, "store-other", end, timedelta(days=shape.history_days), True),
        )
        cursor.execute("DROP TABLE bench_store_m")


def seed_current(shape: StoreShape, source: NotificationSource, *, now: datetime | None = None) -> None:
    """Rebuild the current slice around `now` and record its maintenances' live states as the sync would have."""
    now = now or dj_timezone.now()
    drop_store(current_only=True)
    with connections["default"].cursor() as cursor, transaction.atomic():
        _circuits_table(cursor)
        cursor.execute("DROP TABLE IF EXISTS bench_store_m")
        cursor.execute(
            CURRENT_MAINTENANCES,
            {"count": shape.current, "now": now, "ongoing": max(1, shape.current // 200)},
        )
        _insert_batch(cursor, shape, source, 0, shape.current, now=now)
        cursor.execute(UNKNOWN_CIDS_NOTES, {"now": now})
        cursor.execute(
            OTHER_MAIL,
            _other_mail_params(source, shape.current_other_mail, "store-now-other", now, timedelta(days=30), False),
        )
        cursor.execute("DROP TABLE bench_store_m")
    # What SQL above could not know exactly (the soon horizon's edge): recorded by the app's own code.
    record_due_transitions(
        now=now, queryset=CircuitMaintenance.objects.filter(maintenance_id__startswith=CURRENT_PREFIX)
    )


def _circuits_table(cursor) -> None:
    """`bench_store_c`: up to 200 circuits, numbered, each with another circuit of its provider when it has one."""
    cursor.execute("DROP TABLE IF EXISTS bench_store_c")
    cursor.execute(CIRCUITS)
    cursor.execute("SELECT count(*) FROM bench_store_c")
    if not cursor.fetchone()[0]:
        raise RuntimeError("no circuits: load the demo data first (./run demo --no-serve)")


def _insert_batch(cursor, shape: StoreShape, source: NotificationSource, first: int, last: int, *, now) -> None:
    params = {
        "first": first,
        "last": last,
        "notices": shape.notices,
        "now": now,
        "source": source.pk,
        "sync": source.last_sync_id,
        "content_type": ContentType.objects.get_for_model(CircuitMaintenance).pk,
        "user_name": CHANGE_USER,
        "job": CHANGE_CONTEXT_DETAIL,
        "parser_version": parser_version(),
        "soon_hours": starting_soon_hours(),
        "filler": FILLER,
    }
    for statement in (MAINTENANCES, CHANGE_LOG, IMPACTS, RAW_NOTIFICATIONS, PARSED_NOTIFICATIONS):
        cursor.execute(statement, params)


def _other_mail_params(
    source: NotificationSource, count: int, key: str, end: datetime, spread: timedelta, dismissed: bool
) -> dict:
    return {
        "count": count,
        "key": key,
        "end": end,
        "spread_hours": max(1, math.floor(spread.total_seconds() / 3600)),
        "dismissed": dismissed,
        "source": source.pk,
        "sync": source.last_sync_id,
        "parser_version": parser_version(),
        "filler": FILLER,
    }


@contextmanager
def store_database(name: str, *, template: str | None = None) -> Iterator[None]:
    """Run the block on database `name` (created from `template`, the current one, when missing), migrated.

    Both connection aliases (default, job_logs) point at it and the cache keys get a prefix of their own, so
    that nothing cached from the other database is read; everything is put back afterwards.
    """
    template = template or settings.DATABASES["default"]["NAME"]
    aliases = ("default", "job_logs")
    before = {alias: connections[alias].settings_dict["NAME"] for alias in aliases}
    prefix = cache.key_prefix
    connections.close_all()
    if not database_exists(name):
        create_database(name, template)
    try:
        _point_at(aliases, {alias: name for alias in aliases})
        cache.key_prefix = f"{prefix}:{name}"
        _migrate_if_needed()
        yield
    finally:
        connections.close_all()
        _point_at(aliases, before)
        cache.key_prefix = prefix


def _point_at(aliases: tuple[str, ...], names: dict[str, str]) -> None:
    for alias in aliases:
        settings.DATABASES[alias]["NAME"] = names[alias]
        connections[alias].settings_dict["NAME"] = names[alias]
    ContentType.objects.clear_cache()


def _migrate_if_needed() -> None:
    """Apply migrations the store's database lacks (it was copied before they were written)."""
    executor = MigrationExecutor(connections["default"])
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        print("migrating the store's database", flush=True)
        call_command("migrate", interactive=False, verbosity=0)


def _server_cursor():
    """An autocommit connection to the server's `postgres` database (CREATE and DROP DATABASE)."""
    import psycopg2

    config = settings.DATABASES["default"]
    connection = psycopg2.connect(
        dbname="postgres",
        user=config["USER"],
        password=config["PASSWORD"],
        host=config["HOST"],
        port=config["PORT"],
    )
    connection.autocommit = True
    return connection


def database_exists(name: str) -> bool:
    """Whether the server has a database `name`."""
    connection = _server_cursor()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            return cursor.fetchone() is not None
    finally:
        connection.close()


def create_database(name: str, template: str) -> None:
    """CREATE DATABASE `name` as a copy of `template` (no other session may be connected to the template)."""
    import psycopg2
    from psycopg2 import sql

    connection = _server_cursor()
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
            )
    except psycopg2.errors.ObjectInUse as error:
        raise RuntimeError(
            f"cannot copy database {template} to {name} while other sessions use it "
            "(stop the demo server and workers once, or create the copy yourself)"
        ) from error
    finally:
        connection.close()


def drop_database(name: str) -> None:
    """DROP DATABASE `name` if it exists."""
    from psycopg2 import sql

    connection = _server_cursor()
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
    finally:
        connection.close()


#
# The SQL. Ids are md5 hashes of the records' keys (UUID-shaped, spread like random ones), so that notices,
# impacts and parsed notifications find their maintenance and message without a lookup.
#

CIRCUITS = """
CREATE TEMP TABLE bench_store_c AS
SELECT (row_number() OVER (ORDER BY c.cid, c.id) - 1)::int AS k, c.id AS circuit_id, c.cid, c.provider_id,
       p.name AS provider_name,
       lead(c.id) OVER (PARTITION BY c.provider_id ORDER BY c.cid, c.id) AS other_id,
       lead(c.cid) OVER (PARTITION BY c.provider_id ORDER BY c.cid, c.id) AS other_cid
FROM (SELECT * FROM circuits_circuit ORDER BY cid, id LIMIT 200) c
JOIN circuits_provider p ON p.id = c.provider_id
"""

# Past maintenances, `per_day` a day for as long as it takes, back from `history_end`: 80 %% completed, 10 %% confirmed
# and never completed, 5 %% cancelled, 5 %% re-scheduled (and then done); one in four on two circuits; nineteen in
# twenty acknowledged.
HISTORY_MAINTENANCES = """
CREATE TEMP TABLE bench_store_m AS
SELECT i, 'STORE-' || i || '-BENCH' AS maintenance_id, 'store-' || i AS key_part,
       c.provider_id, c.provider_name, c.circuit_id, c.cid,
       CASE WHEN i %% 4 = 3 THEN c.other_id END AS other_id, CASE WHEN i %% 4 = 3 THEN c.other_cid END AS other_cid,
       s.start_time, s.start_time + interval '4 hours' AS end_time,
       CASE WHEN i %% 100 < 80 THEN 'COMPLETED' WHEN i %% 100 < 90 THEN 'CONFIRMED'
            WHEN i %% 100 < 95 THEN 'CANCELLED' ELSE 'RE-SCHEDULED' END AS status,
       i %% 20 <> 0 AS ack,
       '[]'::jsonb AS unresolved,
       interval '1 day' AS step,
       true AS stale
FROM generate_series(0, %(count)s::int - 1) AS i
JOIN bench_store_c c ON c.k = i %% (SELECT count(*) FROM bench_store_c)
CROSS JOIN LATERAL (
    SELECT %(history_end)s::timestamptz
           - make_interval(days => i / %(per_day)s::int, hours => (i * 7) %% 24) AS start_time
) s
"""

# Around now: from 30 days ago to 60 days ahead; the first `ongoing` in progress now; past ones completed
# (some never said so, a few cancelled), future ones confirmed, tentative, re-scheduled or cancelled; one in
# fifty of the future ones names a circuit ID that is not in Nautobot; half the future ones acknowledged.
CURRENT_MAINTENANCES = """
CREATE TEMP TABLE bench_store_m AS
SELECT j AS i, 'STORE-NOW-' || j || '-BENCH' AS maintenance_id, 'store-now-' || j AS key_part,
       c.provider_id, c.provider_name, c.circuit_id, c.cid,
       CASE WHEN j %% 4 = 3 THEN c.other_id END AS other_id, CASE WHEN j %% 4 = 3 THEN c.other_cid END AS other_cid,
       s.start_time, s.start_time + interval '4 hours' AS end_time,
       CASE WHEN j < %(ongoing)s THEN 'IN-PROCESS'
            WHEN s.start_time + interval '4 hours' < %(now)s THEN
                 CASE WHEN j %% 20 < 17 THEN 'COMPLETED' WHEN j %% 20 < 19 THEN 'CONFIRMED' ELSE 'CANCELLED' END
            ELSE CASE WHEN j %% 20 < 14 THEN 'CONFIRMED' WHEN j %% 20 < 17 THEN 'TENTATIVE'
                      WHEN j %% 20 < 19 THEN 'RE-SCHEDULED' ELSE 'CANCELLED' END
       END AS status,
       CASE WHEN j < %(ongoing)s THEN false
            WHEN s.start_time + interval '4 hours' < %(now)s THEN true ELSE j %% 2 = 0 END AS ack,
       CASE WHEN j >= %(ongoing)s AND j %% 50 = 1 AND s.start_time > %(now)s
            THEN jsonb_build_array('UNKNOWN-' || j) ELSE '[]'::jsonb END AS unresolved,
       interval '6 hours' AS step,
       false AS stale
FROM generate_series(0, %(count)s::int - 1) AS j
JOIN bench_store_c c ON c.k = j %% (SELECT count(*) FROM bench_store_c)
CROSS JOIN LATERAL (
    SELECT CASE WHEN j < %(ongoing)s THEN date_trunc('minute', %(now)s::timestamptz) - interval '1 hour'
                ELSE date_trunc('hour', %(now)s::timestamptz) - interval '30 days'
                     + make_interval(mins => (j * 129600 / %(count)s::int)) END AS start_time
) s
"""

# The live state the sync records (events/live.py): decided by the status and the clock; the soon horizon
# comes from the setting. `live_events` as a backlog's first sync leaves it for the past ones.
LIVE_STATE = """
CASE WHEN m.status = 'CANCELLED' THEN 'cancelled'
     WHEN m.status = 'COMPLETED' THEN 'ended'
     WHEN m.end_time < %(now)s THEN CASE WHEN m.status = 'IN-PROCESS' THEN 'overrunning' ELSE 'ended' END
     WHEN m.start_time <= %(now)s THEN 'in-progress'
     WHEN m.start_time <= %(now)s + make_interval(secs => %(soon_hours)s * 3600) THEN 'starting-soon'
     ELSE 'upcoming' END
"""

IDS = {
    "maintenance": "md5('bench-store-cm:' || m.maintenance_id)::uuid",
    "raw": "md5('bench-store-raw:' || m.key_part || ':' || s)::uuid",
    "parsed": "md5('bench-store-pn:' || m.key_part || ':' || s)::uuid",
}

MAINTENANCES = f"""
INSERT INTO nautobot_ssot_circuit_maintenance_circuitmaintenance (
    id, created, last_updated, _custom_field_data, maintenance_id, name, description, status, start_time, end_time,
    windows, ack, unresolved_circuit_ids, provider_id, acknowledged_at, acknowledged_by_id, live_events, live_state,
    provider_time_zone, replaces_id, replaces_by_person)
SELECT {IDS["maintenance"]}, least(m.start_time - 7 * m.step, %(now)s), least(m.start_time, %(now)s), '{{}}',
       m.maintenance_id, m.maintenance_id, 'Planned work on the ' || m.provider_name || ' network', m.status,
       m.start_time, m.end_time,
       jsonb_build_array(jsonb_build_object(
           'start', to_char(m.start_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'),
           'end', to_char(m.end_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'))),
       m.ack, m.unresolved, m.provider_id,
       CASE WHEN m.ack THEN least(m.start_time - interval '12 hours', %(now)s - interval '1 hour') END, NULL,
       CASE WHEN m.stale AND ({LIVE_STATE}) <> 'upcoming'
            THEN jsonb_build_object({LIVE_STATE}, 'skipped (stale)') ELSE '{{}}'::jsonb END,
       {LIVE_STATE}, 'UTC', NULL, false
FROM bench_store_m m
WHERE m.i >= %(first)s AND m.i < %(last)s
"""

# The sync change-logs each maintenance it creates (compat/changelog.py): one "create" each, by the sync job.
CHANGE_LOG = f"""
INSERT INTO extras_objectchange (
    id, time, user_name, request_id, action, changed_object_id, changed_object_type_id, object_repr, object_data,
    object_data_v2, change_context, change_context_detail)
SELECT md5('bench-store-oc:' || m.maintenance_id)::uuid, least(m.start_time - 7 * m.step, %(now)s), %(user_name)s,
       md5('bench-store-run:' || (m.i / 1000))::uuid, 'create', {IDS["maintenance"]}, %(content_type)s,
       m.maintenance_id, o.data, o.data, 'job', %(job)s
FROM bench_store_m m
CROSS JOIN LATERAL (
    SELECT jsonb_build_object(
        'maintenance_id', m.maintenance_id, 'name', m.maintenance_id, 'provider', m.provider_id,
        'status', m.status, 'start_time', m.start_time, 'end_time', m.end_time, 'ack', m.ack,
        'description', 'Planned work on the ' || m.provider_name || ' network') AS data
) o
WHERE m.i >= %(first)s AND m.i < %(last)s
"""

IMPACT = "(ARRAY['OUTAGE', 'OUTAGE', 'OUTAGE', 'DEGRADED', 'REDUCED-REDUNDANCY', 'NO-IMPACT'])[1 + m.i %% 6]"

IMPACTS = f"""
INSERT INTO nautobot_ssot_circuit_maintenance_circuitimpact (
    id, created, last_updated, _custom_field_data, impact, circuit_id, maintenance_id)
SELECT md5('bench-store-ci:' || m.maintenance_id || ':' || c.circuit_id)::uuid, least(m.start_time, %(now)s),
       least(m.start_time, %(now)s), '{{}}', {IMPACT}, c.circuit_id, {IDS["maintenance"]}
FROM bench_store_m m
CROSS JOIN LATERAL (VALUES (m.circuit_id), (m.other_id)) AS c(circuit_id)
WHERE m.i >= %(first)s AND m.i < %(last)s AND c.circuit_id IS NOT NULL
"""

# Notice s of n: the first tentative (when there are three or more), then confirmed, the last one the
# maintenance's status. Dated a step apart before the start (the completion after the end, never after now).
NOTICE_DATE = """
CASE WHEN s = %(notices)s AND m.status = 'COMPLETED'
          THEN least(m.end_time + interval '1 hour', %(now)s - interval '1 minute')
     WHEN s = %(notices)s AND m.status = 'IN-PROCESS' THEN m.start_time + interval '10 minutes'
     ELSE least(m.start_time, %(now)s - interval '1 minute') - (%(notices)s + 1 - s) * m.step END
"""
NOTICE_STATUS = """
CASE WHEN s = %(notices)s OR m.status = 'TENTATIVE' THEN m.status
     WHEN s = 1 AND %(notices)s >= 3 THEN 'TENTATIVE' ELSE 'CONFIRMED' END
"""
# Out of sequence: one in fifty maintenances had a notice arrive after a newer one.
NOTICE_OUTCOME = """
CASE WHEN s = %(notices)s AND m.unresolved <> '[]'::jsonb THEN 'unknown-cids'
     WHEN s = %(notices)s - 1 AND m.i %% 50 = 7 THEN 'out-of-sequence' ELSE 'parsed' END
"""
SENDER = "'noc@' || lower(regexp_replace(m.provider_name, '[^A-Za-z0-9]+', '', 'g')) || '.example'"

RAW_NOTIFICATIONS = f"""
INSERT INTO nautobot_ssot_circuit_maintenance_rawnotification (
    id, message_key, sender, subject, date, raw, raw_truncated, raw_size, outcome, error, location, created,
    provider_id, source_id, message, message_kept, parser_version, dismiss_reason, exclusion_reason, received,
    forwarded_by, sender_authenticated, sync_id)
SELECT {IDS["raw"]}, '<' || m.key_part || '-' || s || '@benchmark.invalid>', {SENDER},
       '[' || m.provider_name || '] Planned maintenance ' || m.maintenance_id || ' (notice ' || s || ')',
       n.date, n.raw, false, octet_length(n.raw), {NOTICE_OUTCOME}, '', 'INBOX/' || m.key_part || '-' || s,
       n.date + interval '40 seconds', m.provider_id, %(source)s, ''::bytea, '', %(parser_version)s, '', '',
       n.date + interval '20 seconds', '', NULL, %(sync)s
FROM bench_store_m m
CROSS JOIN generate_series(1, %(notices)s) AS s
CROSS JOIN LATERAL (SELECT {NOTICE_DATE} AS date) d
CROSS JOIN LATERAL (
    SELECT d.date, convert_to(
        'Message-ID: <' || m.key_part || '-' || s || '@benchmark.invalid>' || E'\\r\\n'
        || 'Date: ' || to_char(d.date AT TIME ZONE 'UTC', 'Dy, DD Mon YYYY HH24:MI:SS "+0000"') || E'\\r\\n'
        || 'From: ' || {SENDER} || E'\\r\\n' || 'To: noc@example.net' || E'\\r\\n'
        || 'Subject: [' || m.provider_name || '] Planned maintenance ' || m.maintenance_id || E'\\r\\n'
        || 'MIME-Version: 1.0' || E'\\r\\n' || 'Content-Type: text/plain; charset="utf-8"' || E'\\r\\n\\r\\n'
        || 'Dear customer,' || E'\\r\\n\\r\\n' || m.provider_name || ' will perform planned maintenance.'
        || E'\\r\\n\\r\\nMaintenance ID: ' || m.maintenance_id || E'\\r\\nStatus: ' || {NOTICE_STATUS}
        || E'\\r\\nStart: ' || to_char(m.start_time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI "UTC"')
        || E'\\r\\nEnd: ' || to_char(m.end_time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI "UTC"')
        || E'\\r\\nCircuits: ' || m.cid || coalesce(', ' || m.other_cid, '') || E'\\r\\n\\r\\n' || %(filler)s,
        'UTF8') AS raw
) n
WHERE m.i >= %(first)s AND m.i < %(last)s
"""

PARSED_NOTIFICATIONS = f"""
INSERT INTO nautobot_ssot_circuit_maintenance_parsednotification (
    id, provider_maintenance_id, json, created, maintenance_id, provider_id, raw_notification_id, read_by_app)
SELECT {IDS["parsed"]}, m.maintenance_id,
       jsonb_build_object(
           'maintenance_id', m.maintenance_id, 'status', {NOTICE_STATUS},
           'start', extract(epoch FROM m.start_time)::bigint, 'end', extract(epoch FROM m.end_time)::bigint,
           'stamp', extract(epoch FROM d.date)::bigint, 'sequence', s,
           'circuits', jsonb_build_array(jsonb_build_object('circuit_id', m.cid, 'impact', {IMPACT}))
               || CASE WHEN m.other_cid IS NULL THEN '[]'::jsonb
                       ELSE jsonb_build_array(jsonb_build_object('circuit_id', m.other_cid, 'impact', {IMPACT})) END
               || (SELECT coalesce(jsonb_agg(jsonb_build_object('circuit_id', u, 'impact', 'OUTAGE')), '[]'::jsonb)
                   FROM jsonb_array_elements_text(m.unresolved) AS u),
           'summary', 'Planned work on the ' || m.provider_name || ' network',
           'account', 'benchmark', 'organizer', {SENDER}, 'provider', lower(m.provider_name), 'uid', '0'),
       d.date + interval '40 seconds', {IDS["maintenance"]}, m.provider_id, {IDS["raw"]}, '{{"time_zone": "UTC"}}'
FROM bench_store_m m
CROSS JOIN generate_series(1, %(notices)s) AS s
CROSS JOIN LATERAL (SELECT {NOTICE_DATE} AS date) d
WHERE m.i >= %(first)s AND m.i < %(last)s
"""

# The sync notes the circuit IDs it could not match on the maintenance.
UNKNOWN_CIDS_NOTES = f"""
INSERT INTO nautobot_ssot_circuit_maintenance_maintenancenote (
    id, created, last_updated, _custom_field_data, title, level, comment, maintenance_id)
SELECT md5('bench-store-note:' || m.maintenance_id)::uuid, %(now)s, %(now)s, '{{}}',
       'Unknown circuit IDs: ' || (m.unresolved ->> 0), 'WARNING',
       'The notifications name circuit IDs that are not circuits of provider ' || m.provider_name
       || ' in Nautobot: ' || (m.unresolved ->> 0), {IDS["maintenance"]}
FROM bench_store_m m
WHERE m.unresolved <> '[]'::jsonb
"""

# Mail that is no notice: three in five ignored (no maintenance in it), one parsing-failed, one from a sender
# no provider has; spread over `spread_hours` before `end`. Those a person must look at are dismissed in
# the history, not in the last month.
OTHER_MAIL = """
INSERT INTO nautobot_ssot_circuit_maintenance_rawnotification (
    id, message_key, sender, subject, date, raw, raw_truncated, raw_size, outcome, error, location, created,
    provider_id, source_id, message, message_kept, parser_version, dismiss_reason, dismissed_at, exclusion_reason,
    received, forwarded_by, sync_id)
SELECT md5('bench-store-raw:' || %(key)s || ':' || g)::uuid, '<' || %(key)s || '-' || g || '@benchmark.invalid>',
       CASE WHEN g %% 5 = 4 THEN 'alerts@unknown-' || g %% 7 || '.example' ELSE 'noc@provider.example' END,
       CASE WHEN g %% 5 < 3 THEN 'Monthly network newsletter ' || g ELSE 'Maintenance notice ' || g END,
       d.date, n.raw, false, octet_length(n.raw),
       CASE WHEN g %% 5 < 3 THEN 'ignored' WHEN g %% 5 = 3 THEN 'parsing-failed' ELSE 'unknown-provider' END,
       CASE WHEN g %% 5 = 3 THEN 'ProcessorError: no maintenance window found in the notice' ELSE '' END,
       'INBOX/' || %(key)s || '-' || g, d.date + interval '40 seconds',
       CASE WHEN g %% 5 < 4 THEN c.provider_id END,
       %(source)s, ''::bytea, '', %(parser_version)s,
       CASE WHEN %(dismissed)s AND g %% 5 >= 3 THEN 'not a maintenance of ours' ELSE '' END,
       CASE WHEN %(dismissed)s AND g %% 5 >= 3 THEN d.date + interval '1 day' END,
       '', d.date + interval '20 seconds', '', %(sync)s
FROM generate_series(0, %(count)s::int - 1) AS g
JOIN bench_store_c c ON c.k = g %% (SELECT count(*) FROM bench_store_c)
CROSS JOIN LATERAL (
    SELECT %(end)s::timestamptz - make_interval(hours => (g * 7919) %% %(spread_hours)s::int + 1) AS date
) d
CROSS JOIN LATERAL (
    SELECT convert_to('Subject: notice ' || g || E'\\r\\n\\r\\n' || %(filler)s, 'UTF8') AS raw
) n
"""
