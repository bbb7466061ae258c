"""GraphQL: maintenances, their circuits and notes, through Nautobot's /api/graphql/ endpoint."""

from __future__ import annotations

import json

from nautobot.apps.testing import APITestCase

from tests.fixtures.ui_data import build_ui_data

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

    def query(self, query: str, variables: dict | None = None) -> dict:
        response = self.client.post(
            "/api/graphql/",
            data=json.dumps({"query": query, "variables": variables or {}}),
            content_type="application/json",
            **self.header,
        )
        self.assertHttpStatus(response, 200)
        payload = response.json()
        self.assertNotIn("errors", payload, payload)
        return payload["data"]

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
