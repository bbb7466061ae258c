"""GraphQL: maintenances, their circuits and notes, through Nautobot's /api/graphql/ endpoint."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from nautobot.apps.testing import APITestCase

from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance
from tests.fixtures.ui_data import SCRIPT_MAIL, build_ui_data

QUERY = """
query ($provider: [String]) {
  circuit_maintenances(provider: $provider) {
    maintenance_id
    status
    ack
    windows
    circuit_impacts { impact circuit { cid } }
    maintenance_notes { title level }
  }
}
"""


class GraphQLTestCase(APITestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.data = build_ui_data()

    def post(self, query: str, variables: dict | None = None, status: tuple[int, ...] = (200,)) -> dict:
        response = self.client.post(
            "/api/graphql/",
            data=json.dumps({"query": query, "variables": variables or {}}),
            content_type="application/json",
            **self.header,
        )
        self.assertHttpStatus(response, list(status))
        return response.json()

    def query(self, query: str, variables: dict | None = None) -> dict:
        payload = self.post(query, variables)
        self.assertNotIn("errors", payload, payload)
        return payload["data"]

    def errors(self, query: str, variables: dict | None = None) -> str:
        """The errors of a query that fails: in resolving (200) or against the schema (400)."""
        payload = self.post(query, variables, status=(200, 400))
        self.assertIn("errors", payload, payload)
        return " ".join(error["message"] for error in payload["errors"])

    def test_maintenances_with_circuits_and_notes(self):
        self.add_permissions(
            "nautobot_ssot_circuit_maintenance.view_circuitmaintenance",
            "nautobot_ssot_circuit_maintenance.view_circuitimpact",
            "nautobot_ssot_circuit_maintenance.view_maintenancenote",
            "circuits.view_circuit",
        )
        data = self.query(QUERY, {"provider": [self.data.providers[0].name]})
        by_id = {row["maintenance_id"]: row for row in data["circuit_maintenances"]}
        self.assertEqual(set(by_id), {"CM-MAINT-0", "CM-MAINT-3"})
        first = by_id["CM-MAINT-0"]
        self.assertEqual(first["status"], "CONFIRMED")
        self.assertEqual(len(first["windows"]), 2)
        self.assertEqual(
            sorted((i["circuit"]["cid"], i["impact"]) for i in first["circuit_impacts"]),
            [("CM-CID-0", "OUTAGE"), ("CM-CID-3", "DEGRADED")],
        )
        self.assertEqual(first["maintenance_notes"], [{"title": "Unknown circuit GHOST-1", "level": "WARNING"}])

    def test_maintenance_notes_query(self):
        self.add_permissions(
            "nautobot_ssot_circuit_maintenance.view_maintenancenote",
            "nautobot_ssot_circuit_maintenance.view_circuitmaintenance",
        )
        data = self.query('{ maintenance_notes(level: "WARNING") { title comment maintenance { maintenance_id } } }')
        self.assertEqual(
            data["maintenance_notes"],
            [{"title": "Unknown circuit GHOST-1", "comment": "", "maintenance": {"maintenance_id": "CM-MAINT-0"}}],
        )

    def test_the_documented_query(self):
        self.add_permissions("nautobot_ssot_circuit_maintenance.view_circuitmaintenance", "circuits.view_provider")
        data = self.query(
            '{ circuit_maintenances(status: "CONFIRMED", ack: false) { maintenance_id provider { name } start_time } }'
        )
        self.assertEqual(
            [(row["maintenance_id"], row["provider"]["name"]) for row in data["circuit_maintenances"]],
            [("CM-MAINT-0", "CM Provider A")],
        )

    def test_permissions_apply(self):
        data = self.query("{ circuit_maintenances { maintenance_id } }")
        self.assertEqual(data["circuit_maintenances"], [])

    def test_circuit_impacts_filtered_by_impact(self):
        self.add_permissions(
            "nautobot_ssot_circuit_maintenance.view_circuitimpact",
            "nautobot_ssot_circuit_maintenance.view_circuitmaintenance",
        )
        data = self.query('{ circuit_impacts(impact: "OUTAGE") { maintenance { maintenance_id } } }')
        self.assertEqual(
            sorted(row["maintenance"]["maintenance_id"] for row in data["circuit_impacts"]),
            ["CM-MAINT-0", "CM-MAINT-2"],
        )

    # -- live state and who acknowledged ------------------------------------------------------------------------
    def test_live_state_and_acknowledged_by(self):
        self.add_permissions("nautobot_ssot_circuit_maintenance.view_circuitmaintenance")
        maintenance = self.data.maintenances[0]
        maintenance.acknowledge(self.user)
        maintenance.save()
        data = self.query("{ circuit_maintenances { maintenance_id live_state acknowledged_by acknowledged_at } }")
        rows = {row["maintenance_id"]: row for row in data["circuit_maintenances"]}
        self.assertEqual(
            {key: row["live_state"] for key, row in rows.items()},
            {"CM-MAINT-0": "upcoming", "CM-MAINT-1": "upcoming", "CM-MAINT-2": "ended", "CM-MAINT-3": "cancelled"},
        )
        self.assertEqual(rows["CM-MAINT-0"]["acknowledged_by"], self.user.username)
        self.assertIsNotNone(rows["CM-MAINT-0"]["acknowledged_at"])
        self.assertIsNone(rows["CM-MAINT-1"]["acknowledged_by"])

    def test_live_state_filter_and_a_bad_value(self):
        self.add_permissions("nautobot_ssot_circuit_maintenance.view_circuitmaintenance")
        data = self.query('{ circuit_maintenances(live_state: ["ended", "cancelled"]) { maintenance_id live_state } }')
        self.assertEqual(
            sorted((row["maintenance_id"], row["live_state"]) for row in data["circuit_maintenances"]),
            [("CM-MAINT-2", "ended"), ("CM-MAINT-3", "cancelled")],
        )
        self.assertIn("live_state", self.errors('{ circuit_maintenances(live_state: "soon") { maintenance_id } }'))

    def test_live_state_of_a_maintenance_under_way(self):
        self.add_permissions("nautobot_ssot_circuit_maintenance.view_circuitmaintenance")
        maintenance = self.data.maintenances[1]
        now = datetime.now(timezone.utc)
        start, end = now - timedelta(hours=1), now + timedelta(hours=1)
        CircuitMaintenance.objects.filter(pk=maintenance.pk).update(
            windows=[{"start": start.isoformat(), "end": end.isoformat()}], start_time=start, end_time=end
        )
        data = self.query('{ circuit_maintenances(maintenance_id: "CM-MAINT-1") { live_state } }')
        self.assertEqual(data["circuit_maintenances"], [{"live_state": "in-progress"}])

    # -- raw and parsed notifications ---------------------------------------------------------------------------
    def test_raw_notifications(self):
        self.add_permissions(
            "nautobot_ssot_circuit_maintenance.view_rawnotification",
            "nautobot_ssot_circuit_maintenance.view_parsednotification",
            "nautobot_ssot_circuit_maintenance.view_notificationsource",
            "circuits.view_provider",
        )
        data = self.query(
            """{ raw_notifications(outcome: ["parsed", "unknown-cids"]) {
                  message_key subject sender outcome raw raw_size dismissed_by
                  source { name } provider { name } parsed_notifications { provider_maintenance_id }
            } }"""
        )
        rows = {row["message_key"]: row for row in data["raw_notifications"]}
        self.assertEqual(set(rows), {"<xss@provider-a.example>", "<m2@provider-b.example>"})
        first = rows["<xss@provider-a.example>"]
        self.assertEqual(first["raw"], SCRIPT_MAIL.decode("utf-8", errors="replace"))
        self.assertEqual(
            (first["source"], first["provider"], first["outcome"], first["dismissed_by"]),
            ({"name": "Mailbox one"}, {"name": "CM Provider A"}, "PARSED", None),
        )
        self.assertEqual(
            sorted(p["provider_maintenance_id"] for p in rows["<m2@provider-b.example>"]["parsed_notifications"]),
            ["CM-MAINT-1", "CM-MAINT-X"],
        )
        # The whole message (packed bytes) is not in the schema.
        self.assertIn("message", self.errors("{ raw_notifications { message } }"))

    def test_parsed_notifications(self):
        self.add_permissions(
            "nautobot_ssot_circuit_maintenance.view_parsednotification",
            "nautobot_ssot_circuit_maintenance.view_rawnotification",
            "nautobot_ssot_circuit_maintenance.view_circuitmaintenance",
        )
        data = self.query(
            """query ($provider: [String]) { parsed_notifications(provider: $provider) {
                  provider_maintenance_id json raw_notification { subject } maintenance { maintenance_id live_state }
            } }""",
            {"provider": [self.data.providers[1].name]},
        )
        self.assertEqual(
            sorted(data["parsed_notifications"], key=lambda row: row["provider_maintenance_id"]),
            [
                {
                    "provider_maintenance_id": "CM-MAINT-1",
                    "json": {"status": "TENTATIVE"},
                    "raw_notification": {"subject": "Tentative maintenance"},
                    "maintenance": {"maintenance_id": "CM-MAINT-1", "live_state": "upcoming"},
                },
                {
                    "provider_maintenance_id": "CM-MAINT-X",
                    "json": {"status": "CANCELLED"},
                    "raw_notification": {"subject": "Tentative maintenance"},
                    "maintenance": None,
                },
            ],
        )

    def test_notification_permissions_apply(self):
        self.assertEqual(self.query("{ raw_notifications { subject } }")["raw_notifications"], [])
        self.assertEqual(self.query("{ parsed_notifications { json } }")["parsed_notifications"], [])
        # Parsed notifications alone: the raw notifications and maintenances they point at stay hidden.
        self.add_permissions("nautobot_ssot_circuit_maintenance.view_parsednotification")
        data = self.query("{ parsed_notifications { raw_notification { subject } maintenance { maintenance_id } } }")
        self.assertEqual(len(data["parsed_notifications"]), 3)
        for row in data["parsed_notifications"]:
            self.assertEqual(row, {"raw_notification": None, "maintenance": None})
