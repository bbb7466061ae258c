"""What a sync run and the pages ask of years of maintenances and a million notifications, answered from indexes.

Each test asks PostgreSQL for its plan with sequential scans priced out (`enable_seqscan = off`): a query it can
answer from an index then uses one, and a query shaped so that no index can serve it still reads the whole
table. So each fails when the index (migration 0026) or the query's shape goes, whatever the size of the test's
tables, and no timing is involved.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from itertools import product

from django.db import connection
from django.db.models import Count, Q
from nautobot.apps.testing import TestCase
from nautobot.circuits.models import Provider
from nautobot.extras.models import ObjectChange

from nautobot_ssot_circuit_maintenance.calendar.feed import deletions_after
from nautobot_ssot_circuit_maintenance.choices import LiveStateChoices, MaintenanceStatusChoices, OutcomeChoices
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance, NotificationSource, RawNotification
from nautobot_ssot_circuit_maintenance.models.querysets import _live_state_in_sql
from tests.fixtures.records import create_maintenance

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=timezone.utc)
H = timedelta(hours=1)
MAINTENANCES = CircuitMaintenance._meta.db_table


def plan(sql: str, params: list | tuple = ()) -> list[dict]:
    """Every node of PostgreSQL's plan of the statement with sequential scans priced out."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        (document,) = cursor.fetchone()
    document = json.loads(document) if isinstance(document, str) else document
    nodes, pending = [], [document[0]["Plan"]]
    while pending:
        node = pending.pop()
        nodes.append(node)
        pending.extend(node.get("Plans", []))
    return nodes


def plan_of(queryset) -> list[dict]:
    return plan(*queryset.query.sql_with_params())


def whole_table_reads(nodes: list[dict], table: str) -> list[str]:
    """The plan's reads of every row of the table: a sequential scan, or an index scan with no condition to seek."""
    return [
        f"{node['Node Type']} on {table}"
        for node in nodes
        if node.get("Relation Name") == table
        and (node["Node Type"] == "Seq Scan" or ("Index" in node["Node Type"] and "Index Cond" not in node))
    ]


def indexes_used(nodes: list[dict]) -> set[str]:
    return {node["Index Name"] for node in nodes if "Index Name" in node}


def index_on(table: str, columns: list[str]) -> str:
    """The name of the index on exactly these columns of the table."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return next(name for name, info in constraints.items() if info["index"] and info["columns"] == columns)


class IndexedQueriesTest(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.provider = Provider.objects.create(name="Indexed Provider")
        # One maintenance per (status, recorded live state, before / during / after now); one supersedes another.
        windows = {
            "past": (NOW - 30 * H, NOW - 26 * H),
            "now": (NOW - H, NOW + 3 * H),
            "next": (NOW + 48 * H, NOW + 52 * H),
        }
        recorded = [None, *LiveStateChoices.values()]
        cls.maintenances = []
        for number, (status, state, when) in enumerate(
            product(MaintenanceStatusChoices.values(), recorded, windows), start=1
        ):
            cls.maintenances.append(
                create_maintenance(
                    cls.provider, f"IDX-{number}", f"Indexed {number}", status, [windows[when]], live_state=state
                )
            )
        newer = cls.maintenances[-1]
        newer.replaces = cls.maintenances[0]
        newer.save()

    def test_live_state_unrecorded_reads_only_indexes(self):
        unrecorded = CircuitMaintenance.objects.live_state_unrecorded(now=NOW, soon_hours=24).only("pk", "live_state")
        self.assertEqual(whole_table_reads(plan_of(unrecorded), MAINTENANCES), [])

    def test_live_state_unrecorded_finds_every_row_its_definition_does(self):
        """Narrowed to `_may_have_moved` (for the indexes), it still finds what the plain condition finds."""
        queryset = CircuitMaintenance.objects.all()
        decided, undecided = _live_state_in_sql(NOW, 24, queryset.superseded_condition())
        differs = undecided
        for value, condition in decided.items():
            differs |= condition & ~Q(live_state=value)
        expected = set(queryset.filter(differs).values_list("pk", flat=True))
        found = set(queryset.live_state_unrecorded(now=NOW, soon_hours=24).values_list("pk", flat=True))
        self.assertEqual(found, expected)
        # The grid covers every way a record lags: it is not a vacuous comparison.
        self.assertGreater(len(expected), 20)
        self.assertLess(len(expected), len(self.maintenances))

    def test_what_is_not_over_is_found_by_its_end(self):
        end_index = index_on(MAINTENANCES, ["end_time"])
        for queryset in (
            CircuitMaintenance.objects.not_over(now=NOW),
            CircuitMaintenance.objects.upcoming(14, now=NOW),
            CircuitMaintenance.objects.needs_attention(now=NOW),
            CircuitMaintenance.objects.maybe_active(now=NOW),
        ):
            nodes = plan_of(queryset)
            self.assertEqual(whole_table_reads(nodes, MAINTENANCES), [], queryset.query)
            self.assertIn(end_index, indexes_used(nodes), queryset.query)

    def test_what_a_run_changed_is_found_by_its_last_update(self):
        changed = CircuitMaintenance.objects.filter(last_updated__gte=NOW).values_list("pk", flat=True)
        self.assertIn("cm_last_updated_idx", indexes_used(plan_of(changed)))

    def test_unknown_circuit_ids_are_found_without_reading_the_rest(self):
        pending = CircuitMaintenance.objects.exclude(unresolved_circuit_ids=[]).values_list("provider_id", flat=True)
        self.assertIn("cm_unresolved_cids_idx", indexes_used(plan_of(pending)))


class SourceRunTest(TestCase):
    def test_what_a_sources_last_run_stored_is_found_among_all_its_mail(self):
        """The overview's last sync of each source counts the outcomes of the mail stored in its last run.

        All of a source's mail is its own, so its source alone narrows nothing: the run's times must be sought.
        """
        source = NotificationSource.objects.create(name="Indexed source")
        RawNotification.objects.bulk_create(
            RawNotification(
                source=source, message_key=f"<run-{n}@test>", date=NOW, raw=b"x", raw_size=n, outcome="parsed"
            )
            for n in range(300)
        )
        table = RawNotification._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET created = %s - raw_size * interval '1 day'", [NOW])  # noqa: S608
            cursor.execute(f"ANALYZE {table}")
        stored = (
            RawNotification.objects.filter(source=source, created__gte=NOW - H, created__lte=NOW)
            .values_list("outcome")
            .annotate(n=Count("pk"))
            .order_by("outcome")
        )
        nodes = plan_of(stored)
        self.assertEqual(whole_table_reads(nodes, table), [])
        self.assertIn("cm_raw_source_created_idx", indexes_used(nodes))


class FeedLastModifiedTest(TestCase):
    def test_deletions_are_read_from_the_newest_included_change_on(self):
        """The feed's Last-Modified looks at the change log only after its newest record, by the log's time index."""
        nodes = plan_of(deletions_after(NOW).values("time"))
        self.assertEqual(whole_table_reads(nodes, ObjectChange._meta.db_table), [])
        # Bounded by time: the planner may seek by time or by object type first (that depends on the table's
        # statistics), but the log after the newest record is all it reads.
        conditions = [node.get(key, "") for node in nodes for key in ("Index Cond", "Recheck Cond", "Filter")]
        self.assertTrue(any('"time" >' in condition or "time >" in condition for condition in conditions), nodes)


class ParserVersionsTest(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        for number, version in enumerate(["2.12.0", "", "2.9.1", "2.12.0", "2.10.0", "", "2.9.1"]):
            RawNotification.objects.create(
                message_key=f"<versions-{number}@test>",
                date=NOW,
                raw=b"Subject: x\r\n\r\n",
                outcome=OutcomeChoices.PARSED,
                parser_version=version,
            )

    def test_each_version_once_sorted_without_the_unparsed(self):
        self.assertEqual(RawNotification.parser_versions(), ["2.10.0", "2.12.0", "2.9.1"])

    def test_none_stored_none_offered(self):
        RawNotification.objects.all().delete()
        self.assertEqual(RawNotification.parser_versions(), [])

    def test_found_by_index_probes_not_by_reading_every_row(self):
        nodes = plan(RawNotification.parser_versions_sql())
        self.assertEqual(whole_table_reads(nodes, RawNotification._meta.db_table), [])
        self.assertEqual(indexes_used(nodes), {"cm_raw_parser_version_idx"})
