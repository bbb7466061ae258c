"""REST API of circuit aliases: Nautobot's generic API tests plus the rules every writer of an alias goes through."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.urls import reverse
from nautobot.apps.testing import APITestCase, APIViewTestCases
from nautobot.circuits.models import Circuit
from nautobot.extras.choices import ObjectChangeActionChoices
from nautobot.extras.models import ObjectChange

from nautobot_ssot_circuit_maintenance.models import CircuitAlias
from nautobot_ssot_circuit_maintenance.triage.actions import map_circuit_id
from tests.fixtures.records import content_type
from tests.fixtures.ui_data import build_ui_data

API = "plugins-api:nautobot_ssot_circuit_maintenance-api"


def aliases_of(data) -> list[CircuitAlias]:
    """One alias per provider, each mapped to a circuit of its own provider."""
    return [
        CircuitAlias.objects.create(provider=provider, alias=f"ghost {number}", circuit=circuit)
        for number, (provider, circuit) in enumerate((circuit.provider, circuit) for circuit in data.circuits[:3])
    ]


class CircuitAliasAPITest(
    APIViewTestCases.GetObjectViewTestCase,
    APIViewTestCases.ListObjectsViewTestCase,
    APIViewTestCases.CreateObjectViewTestCase,
    APIViewTestCases.UpdateObjectViewTestCase,
    APIViewTestCases.DeleteObjectViewTestCase,
):
    model = CircuitAlias

    @classmethod
    def setUpTestData(cls) -> None:
        cls.data = build_ui_data()
        aliases_of(cls.data)
        provider_b = cls.data.providers[1]
        circuit_b = cls.data.circuits[4]  # CM-CID-4: provider B's
        cls.create_data = [
            {"provider": provider_b.pk, "alias": f"API-ALIAS-{number}", "circuit": circuit_b.pk} for number in range(3)
        ]
        cls.update_data = {"alias": "RENAMED-1"}
        # Each alias keeps its own provider and circuit: only a field that needs no other can be set on all three.
        cls.bulk_update_data = None


class CircuitAliasRulesTest(APITestCase):
    """Who may write aliases, what is refused with a 400, and what is recorded."""

    @classmethod
    def setUpTestData(cls) -> None:
        cls.data = build_ui_data()
        cls.aliases = aliases_of(cls.data)
        cls.provider_a, cls.provider_b = cls.data.providers[0], cls.data.providers[1]
        cls.circuit_a = cls.data.circuits[3]  # CM-CID-3: provider A's
        cls.circuit_b = cls.data.circuits[1]  # CM-CID-1: provider B's

    def setUp(self) -> None:
        super().setUp()
        self.list_url = reverse(f"{API}:circuitalias-list")

    def grant(self, *actions: str) -> None:
        """The actions on aliases, and the view of the providers and circuits they point at."""
        self.add_permissions(
            *(f"nautobot_ssot_circuit_maintenance.{action}_circuitalias" for action in actions),
            "circuits.view_provider",
            "circuits.view_circuit",
        )

    def post(self, **fields):
        body = {"provider": str(self.provider_a.pk), "alias": "DXLAG-7", "circuit": str(self.circuit_a.pk), **fields}
        return self.client.post(self.list_url, body, format="json", **self.header)

    def test_path_and_absolute_url(self) -> None:
        self.assertEqual(self.list_url, "/api/plugins/circuit-maintenance/circuitalias/")
        alias = self.aliases[0]
        self.assertEqual(alias.get_absolute_url(api=True), f"/api/plugins/circuit-maintenance/circuitalias/{alias.pk}/")
        self.grant("view")
        self.assertHttpStatus(self.client.get(alias.get_absolute_url(api=True), **self.header), 200)

    def test_create_records_who_the_normalized_form_and_a_change(self) -> None:
        self.grant("add", "view")
        response = self.post(alias="  dxlag   7 ", created_by=None, normalized="x")
        self.assertHttpStatus(response, 201)
        alias = CircuitAlias.objects.get(pk=response.data["id"])
        self.assertEqual((alias.alias, alias.normalized, alias.created_by), ("dxlag 7", "DXLAG 7", self.user))
        self.assertEqual(response.data["normalized"], "DXLAG 7")
        change = ObjectChange.objects.get(changed_object_type=content_type(CircuitAlias), changed_object_id=alias.pk)
        self.assertEqual((change.action, change.user), (ObjectChangeActionChoices.ACTION_CREATE, self.user))

    def test_update_and_delete_are_change_logged(self) -> None:
        self.grant("change", "delete", "view")
        alias = self.aliases[0]
        response = self.client.patch(
            alias.get_absolute_url(api=True), {"alias": "ghost  zero"}, format="json", **self.header
        )
        self.assertHttpStatus(response, 200)
        alias.refresh_from_db()
        self.assertEqual(alias.normalized, "GHOST ZERO")
        self.assertHttpStatus(self.client.delete(alias.get_absolute_url(api=True), **self.header), 204)
        actions = ObjectChange.objects.filter(
            changed_object_type=content_type(CircuitAlias), changed_object_id=alias.pk
        ).values_list("action", flat=True)
        self.assertEqual(
            sorted(actions), sorted([ObjectChangeActionChoices.ACTION_UPDATE, ObjectChangeActionChoices.ACTION_DELETE])
        )

    def test_circuit_of_another_provider_is_a_400(self) -> None:
        self.grant("add", "change", "view")
        response = self.post(circuit=str(self.circuit_b.pk))
        self.assertHttpStatus(response, 400)
        self.assertIn("is not a circuit of the alias's provider", str(response.data["circuit"]))
        # Changing the provider alone, away from the circuit's, is refused too.
        alias = self.aliases[0]
        response = self.client.patch(
            alias.get_absolute_url(api=True), {"provider": str(self.provider_b.pk)}, format="json", **self.header
        )
        self.assertHttpStatus(response, 400)
        self.assertIn("circuit", response.data)
        alias.refresh_from_db()
        self.assertEqual(alias.provider, self.provider_a)
        self.assertFalse(CircuitAlias.objects.filter(normalized="DXLAG-7").exists())

    def test_duplicate_of_the_normalized_form_is_a_400(self) -> None:
        self.grant("add", "change", "view")
        self.assertHttpStatus(self.post(alias="DXLAG-7"), 201)
        response = self.post(alias=" dxlag-7 ")
        self.assertHttpStatus(response, 400)
        self.assertIn("already has an alias for this provider", str(response.data))
        self.assertEqual(CircuitAlias.objects.filter(normalized="DXLAG-7").count(), 1)
        # Renaming another alias of the provider onto it is refused the same way.
        response = self.client.patch(
            self.aliases[0].get_absolute_url(api=True), {"alias": "Dxlag-7"}, format="json", **self.header
        )
        self.assertHttpStatus(response, 400)
        self.assertIn("already has an alias for this provider", str(response.data))
        # The same ID for another provider is another alias.
        circuit = Circuit.objects.filter(provider=self.provider_b).first()
        self.assertHttpStatus(self.post(provider=str(self.provider_b.pk), circuit=str(circuit.pk)), 201)

    def test_unreadable_alias_is_a_400(self) -> None:
        self.grant("add", "view")
        for alias in ("   ", "CID\x07", "C" * 256, None):
            with self.subTest(alias=repr(alias)[:20]):
                response = self.post(alias=alias)
                self.assertHttpStatus(response, 400)
                self.assertIn("alias", response.data)

    def test_without_permission_403(self) -> None:
        self.assertHttpStatus(self.client.get(self.list_url, **self.header), 403)
        self.assertHttpStatus(self.post(), 403)
        detail = self.aliases[0].get_absolute_url(api=True)
        self.grant("view")
        self.assertHttpStatus(self.post(), 403)
        self.assertHttpStatus(self.client.patch(detail, {"alias": "x"}, format="json", **self.header), 403)
        self.assertHttpStatus(self.client.delete(detail, **self.header), 403)
        self.assertEqual(CircuitAlias.objects.count(), 3)

    def test_filters(self) -> None:
        self.grant("view")
        for params, expected in (
            ({"provider": self.provider_a.name}, {"ghost 0"}),
            ({"provider": [self.provider_b.name, str(self.data.providers[2].pk)]}, {"ghost 1", "ghost 2"}),
            ({"circuit": "CM-CID-1"}, {"ghost 1"}),
            ({"normalized": "GHOST 2"}, {"ghost 2"}),
            ({"alias__ic": "HOST 0"}, {"ghost 0"}),
            ({"q": "cid-2"}, {"ghost 2"}),
        ):
            with self.subTest(params=params):
                response = self.client.get(self.list_url, params, **self.header)
                self.assertHttpStatus(response, 200)
                self.assertEqual({row["alias"] for row in response.data["results"]}, expected)

    def test_bad_filter_values_are_a_400(self) -> None:
        self.grant("view")
        for params in ({"provider": "no such provider"}, {"circuit": "NO-SUCH-CID"}, {"alias": "x\x00"}):
            with self.subTest(params=params):
                response = self.client.get(self.list_url, params, **self.header)
                self.assertHttpStatus(response, 400)
                self.assertIn(next(iter(params)), response.data)


class OneRuleForEveryWriterTest(APITestCase):
    """The triage queue's action goes through the same rules as the REST API: they live in the model."""

    @classmethod
    def setUpTestData(cls) -> None:
        cls.data = build_ui_data()

    def test_triage_refuses_another_providers_circuit_and_a_duplicate(self) -> None:
        provider_a, circuit_a, circuit_b = self.data.providers[0], self.data.circuits[0], self.data.circuits[1]
        with self.assertRaisesMessage(ValidationError, "is not a circuit of the alias's provider"):
            map_circuit_id(provider_a, "DXLAG-9", circuit_b, self.user)
        alias = map_circuit_id(provider_a, " dxlag  9 ", circuit_a, self.user)
        self.assertEqual((alias.alias, alias.normalized), ("dxlag 9", "DXLAG 9"))
        with self.assertRaisesMessage(ValidationError, "already has an alias for this provider"):
            map_circuit_id(provider_a, "DXLAG 9", circuit_a, self.user)


class CircuitAliasBulkCreateTest(APITestCase):
    """Aliases created in bulk with a list body: providers by name, circuits by circuit ID; all or nothing."""

    @classmethod
    def setUpTestData(cls) -> None:
        cls.data = build_ui_data()
        cls.provider_a, cls.provider_b = cls.data.providers[0], cls.data.providers[1]

    def setUp(self) -> None:
        super().setUp()
        self.list_url = reverse(f"{API}:circuitalias-list")
        self.add_permissions(
            "nautobot_ssot_circuit_maintenance.add_circuitalias",
            "nautobot_ssot_circuit_maintenance.view_circuitalias",
            "circuits.view_provider",
            "circuits.view_circuit",
        )

    def post(self, rows: list[dict]):
        return self.client.post(self.list_url, rows, format="json", **self.header)

    def test_a_list_creates_them_all_by_provider_name_and_circuit_id(self) -> None:
        rows = [
            {"provider": self.provider_a.name, "alias": "XC  100", "circuit": "CM-CID-0"},
            {"provider": self.provider_a.name, "alias": "XC-101", "circuit": "CM-CID-3"},
            {"provider": str(self.provider_b.pk), "alias": "XC-102", "circuit": "CM-CID-4"},
        ]
        response = self.post(rows)
        self.assertHttpStatus(response, 201)
        self.assertEqual(len(response.data), 3)
        created = CircuitAlias.objects.order_by("alias")
        self.assertEqual(
            [(alias.provider, alias.alias, alias.circuit.cid, alias.created_by) for alias in created],
            [
                (self.provider_a, "XC 100", "CM-CID-0", self.user),
                (self.provider_a, "XC-101", "CM-CID-3", self.user),
                (self.provider_b, "XC-102", "CM-CID-4", self.user),
            ],
        )

    def test_a_bad_row_is_a_400_at_its_row_and_nothing_is_created(self) -> None:
        good = {"provider": self.provider_a.name, "alias": "XC-1", "circuit": "CM-CID-0"}
        for bad, field, message in (
            # CM-CID-1 is provider B's: by pk it is another provider's circuit, by circuit ID not one of A's.
            ({**good, "alias": "XC-2", "circuit": str(self.data.circuits[1].pk)}, "circuit", "is not a circuit of"),
            ({**good, "alias": "XC-2", "circuit": "CM-CID-1"}, "circuit", "Related object not found"),
            ({**good, "alias": " xc-1 "}, "alias", "Row 3 repeats row 1: That circuit ID already has an alias"),
            ({**good, "provider": "No such provider"}, "provider", "Related object not found"),
        ):
            with self.subTest(bad=bad):
                response = self.post([good, {**good, "alias": "XC-3"}, bad])
                self.assertHttpStatus(response, 400)
                self.assertEqual(len(response.data), 3)
                self.assertEqual(response.data[:2], [{}, {}])
                self.assertIn(message, str(response.data[2][field]))
                self.assertFalse(CircuitAlias.objects.exists())

    def test_an_alias_already_stored_is_refused_at_its_row(self) -> None:
        CircuitAlias.objects.create(provider=self.provider_a, alias="XC-7", circuit=self.data.circuits[0])
        response = self.post(
            [
                {"provider": self.provider_a.name, "alias": "XC-8", "circuit": "CM-CID-3"},
                {"provider": self.provider_a.name, "alias": "xc-7", "circuit": "CM-CID-3"},
            ]
        )
        self.assertHttpStatus(response, 400)
        self.assertIn("already has an alias for this provider", str(response.data[1]))
        self.assertEqual(list(CircuitAlias.objects.values_list("alias", flat=True)), ["XC-7"])
