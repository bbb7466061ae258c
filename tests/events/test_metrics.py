"""Prometheus metrics, read from the real endpoints: nautobot-capacity-metrics' app-metrics and Nautobot's /metrics/."""

from __future__ import annotations

from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from nautobot.apps.testing import TestCase
from nautobot.circuits.models import Circuit, CircuitTermination, CircuitType, Provider
from nautobot.dcim.models import Location, LocationType
from nautobot.extras.management import populate_status_choices
from nautobot.extras.models import Status
from prometheus_client.parser import text_string_to_metric_families

from nautobot_ssot_circuit_maintenance.choices import ImpactChoices, MaintenanceStatusChoices, OutcomeChoices
from nautobot_ssot_circuit_maintenance.config import APP_NAME
from nautobot_ssot_circuit_maintenance.events.metrics import metric_circuit_operational_status
from nautobot_ssot_circuit_maintenance.models import (
    CircuitImpact,
    CircuitMaintenance,
    NotificationSource,
    RawNotification,
)

APP_METRICS = "/api/plugins/capacity-metrics/app-metrics"


def metrics_config(**metrics) -> dict:
    config = {**settings.PLUGINS_CONFIG}
    config[APP_NAME] = {**config.get(APP_NAME, {}), "metrics": {"enable": True, **metrics}}
    return config


class MetricsTestCase(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        populate_status_choices(apps, None)  # a TransactionTestCase earlier in the run truncated them
        now = timezone.now()
        cls.provider = Provider.objects.create(name="Metrics Carrier")
        cls.circuit_type = CircuitType.objects.create(name="Metrics Transit")
        cls.status = Status.objects.get_for_model(Circuit).first()
        location_type = LocationType.objects.create(name="Metrics City")
        location_type.content_types.add(ContentType.objects.get_for_model(CircuitTermination))
        location_status = Status.objects.get_for_model(Location).first()
        cls.location = Location.objects.create(name="Girona", location_type=location_type, status=location_status)
        cls.circuits = {}
        for cid in ("OUTAGE-NOW", "IN-PROCESS", "BETWEEN-WINDOWS", "CANCELLED", "NO-IMPACT", "QUIET"):
            circuit = Circuit.objects.create(
                cid=cid, provider=cls.provider, circuit_type=cls.circuit_type, status=cls.status
            )
            CircuitTermination.objects.create(circuit=circuit, term_side="A", location=cls.location)
            cls.circuits[cid] = circuit

        def maintenance(mid, status, windows, cid, impact=ImpactChoices.OUTAGE):
            record = CircuitMaintenance.objects.create(
                provider=cls.provider,
                maintenance_id=mid,
                name=mid,
                status=status,
                start_time=min(start for start, _ in windows),
                end_time=max(end for _, end in windows),
                windows=[{"start": s.isoformat(), "end": e.isoformat()} for s, e in windows],
            )
            CircuitImpact.objects.create(maintenance=record, circuit=cls.circuits[cid], impact=impact)

        hour = timedelta(hours=1)
        maintenance("M1", MaintenanceStatusChoices.CONFIRMED, [(now - hour, now + hour)], "OUTAGE-NOW")
        maintenance("M2", MaintenanceStatusChoices.IN_PROCESS, [(now + hour, now + 2 * hour)], "IN-PROCESS", "DEGRADED")
        # Three nights; now falls on the day between the first two.
        nights = [
            (now - 12 * hour, now - 8 * hour),
            (now + 12 * hour, now + 16 * hour),
            (now + 36 * hour, now + 40 * hour),
        ]
        maintenance("M3", MaintenanceStatusChoices.CONFIRMED, nights, "BETWEEN-WINDOWS")
        maintenance("M4", MaintenanceStatusChoices.CANCELLED, [(now - hour, now + hour)], "CANCELLED")
        maintenance(
            "M5", MaintenanceStatusChoices.CONFIRMED, [(now - hour, now + hour)], "NO-IMPACT", ImpactChoices.NO_IMPACT
        )

        cls.source = NotificationSource.objects.create(name="Metrics mailbox", source_type="imaps")
        cls.source.last_run = now
        cls.source.last_error = "LOGIN failed"
        cls.source.save()
        for number, outcome in enumerate(
            [
                OutcomeChoices.PARSED,
                OutcomeChoices.PARSED,
                OutcomeChoices.UNKNOWN_PROVIDER,
                OutcomeChoices.PARSING_FAILED,
            ]
        ):
            RawNotification.objects.create(
                source=cls.source,
                message_key=f"<m{number}@metrics.example>",
                sender="noc@metrics.example",
                subject="s",
                date=now,
                raw=b"x",
                raw_size=1,
                outcome=outcome,
            )

    def scrape(self, path: str = APP_METRICS) -> dict:
        cache.clear()
        response = self.client.get(path)
        self.assertHttpStatus(response, 200)
        return {family.name: family for family in text_string_to_metric_families(response.content.decode())}

    def samples(self, family) -> dict[tuple, float]:
        return {tuple(sorted(sample.labels.items())): sample.value for sample in family.samples}

    def test_disabled_by_default(self):
        families = self.scrape()
        self.assertFalse([name for name in families if name.startswith("circuit_maintenance")])

    def test_circuit_status_follows_active_windows(self):
        with override_settings(PLUGINS_CONFIG=metrics_config()):
            families = self.scrape()
        status = {
            dict(labels)["circuit"]: value
            for labels, value in self.samples(families["circuit_maintenance_status"]).items()
        }
        self.assertEqual(
            status,
            {
                "OUTAGE-NOW": 2,
                "IN-PROCESS": 2,
                "BETWEEN-WINDOWS": 1,
                "CANCELLED": 1,
                "NO-IMPACT": 1,
                "QUIET": 1,
            },
        )
        labels = dict(next(iter(self.samples(families["circuit_maintenance_status"]))))
        self.assertEqual(
            labels,
            {
                "circuit": labels["circuit"],
                "provider": "Metrics Carrier",
                "circuit_type": "Metrics Transit",
                "site": "Girona",
            },
        )

    def test_custom_labels(self):
        with override_settings(
            PLUGINS_CONFIG=metrics_config(
                labels_attached={"cid": "circuit.cid", "where": "location.name", "nothing": "circuit.nope.name"}
            )
        ):
            families = self.scrape()
        labels = dict(next(iter(self.samples(families["circuit_maintenance_status"]))))
        self.assertEqual(set(labels), {"cid", "where", "nothing"})
        self.assertEqual((labels["where"], labels["nothing"]), ("Girona", ""))

    def test_maintenances_and_sources(self):
        with override_settings(PLUGINS_CONFIG=metrics_config()):
            families = self.scrape()
        by_status = {
            dict(k)["status"]: v for k, v in self.samples(families["circuit_maintenance_maintenances"]).items()
        }
        self.assertEqual(by_status["CONFIRMED"], 3)
        self.assertEqual(by_status["IN-PROCESS"], 1)
        self.assertEqual(by_status["COMPLETED"], 0)
        notifications = {
            dict(k)["outcome"]: v
            for k, v in self.samples(families["circuit_maintenance_notifications"]).items()
            if dict(k)["source"] == "Metrics mailbox"
        }
        self.assertEqual(notifications, {"parsed": 2, "unknown-provider": 1, "parsing-failed": 1})
        failing = self.samples(families["circuit_maintenance_source_failing"])
        self.assertEqual(failing[(("source", "Metrics mailbox"),)], 1)
        last_run = self.samples(families["circuit_maintenance_source_last_run_timestamp_seconds"])
        self.assertAlmostEqual(last_run[(("source", "Metrics mailbox"),)], self.source.last_run.timestamp(), places=0)

    def test_served_by_nautobot_metrics_endpoint_too(self):
        with override_settings(PLUGINS_CONFIG=metrics_config()):
            families = self.scrape("/metrics/")
        self.assertIn("circuit_maintenance_status", families)

    def test_queries_do_not_grow_with_circuits(self):
        def count() -> int:
            with override_settings(PLUGINS_CONFIG=metrics_config()), CaptureQueriesContext(connection) as queries:
                list(metric_circuit_operational_status())
            return len(queries)

        before = count()
        for number in range(30):
            circuit = Circuit.objects.create(
                cid=f"EXTRA-{number}", provider=self.provider, circuit_type=self.circuit_type, status=self.status
            )
            CircuitTermination.objects.create(circuit=circuit, term_side="A", location=self.location)
        self.assertEqual(count(), before)
