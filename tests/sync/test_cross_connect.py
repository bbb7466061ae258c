"""Circuit IDs as providers write them: matched by a termination's cross-connect id, after the cid and the aliases."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from nautobot.apps.testing import TestCase, TransactionTestCase
from nautobot.circuits.models import Circuit, CircuitTermination, CircuitType, Provider, ProviderNetwork
from nautobot.extras.models import Status
from nautobot_ssot.models import SyncLogEntry

from nautobot_ssot_circuit_maintenance.choices import OutcomeChoices
from nautobot_ssot_circuit_maintenance.intake.resolve import (
    MATCHED_BY_ALIAS,
    MATCHED_BY_CID,
    MATCHED_BY_XCONNECT,
    match_circuits,
)
from nautobot_ssot_circuit_maintenance.models import CircuitAlias, CircuitMaintenance, MaintenanceNote, RawNotification
from nautobot_ssot_circuit_maintenance.validation import normalize_cid
from nautobot_ssot_circuit_maintenance.views.timeline import timeline_rows
from tests.fixtures.job_helpers import JobTestMixin, MailFolder
from tests.fixtures.sample_data import corpus_by_name, create_providers_and_circuits

MESSAGES = corpus_by_name()
# GTT's notice gtt7 (maintenance 65430585) names one circuit: this ID.
GTT_CID = "1098765-12345678"


def circuit_like(provider: Provider, cid: str) -> Circuit:
    """A circuit of `provider` with the type and status of the sample circuits."""
    template = Circuit.objects.first()
    return Circuit.objects.create(
        provider=provider, cid=cid, circuit_type=template.circuit_type, status=template.status
    )


def cross_connect(circuit: Circuit, xconnect_id: str, side: str = "A") -> CircuitTermination:
    """A termination of `circuit` (on its provider's network) with this cross-connect id."""
    network, _ = ProviderNetwork.objects.get_or_create(provider=circuit.provider, name=f"{circuit.provider.name} net")
    termination = CircuitTermination(circuit=circuit, term_side=side, provider_network=network, xconnect_id=xconnect_id)
    termination.validated_save()
    return termination


class MatchPrecedenceTestCase(TestCase):
    """`match_circuits` alone: which circuit an ID matches when several could."""

    def setUp(self):
        self.provider = Provider.objects.create(name="Precedence Telecom")
        self.other = Provider.objects.create(name="Other Telecom")
        self.circuit_type, _ = CircuitType.objects.get_or_create(name="Transit")
        self.status, _ = Status.objects.get_or_create(name="Active")
        self.status.content_types.add(ContentType.objects.get_for_model(Circuit))

    def make(self, provider: Provider, cid: str) -> Circuit:
        return Circuit.objects.create(provider=provider, cid=cid, circuit_type=self.circuit_type, status=self.status)

    def match(self, written: str):
        ncid = normalize_cid(written)
        matches = match_circuits({self.provider.pk}, {ncid})
        return matches.found.get((self.provider.pk, ncid)), matches.ambiguous.get((self.provider.pk, ncid))

    def test_cross_connect_id_matches_normalised_on_either_termination(self):
        circuit = self.make(self.provider, "P-1")
        cross_connect(circuit, "other-side", side="A")
        cross_connect(circuit, "  xc  42 ", side="Z")
        self.assertEqual(self.match("XC 42"), ((circuit.pk, "P-1", MATCHED_BY_XCONNECT), None))

    def test_both_terminations_of_one_circuit_are_not_ambiguous(self):
        circuit = self.make(self.provider, "P-1")
        cross_connect(circuit, "XC-42", side="A")
        cross_connect(circuit, "xc-42", side="Z")
        self.assertEqual(self.match("XC-42")[0], (circuit.pk, "P-1", MATCHED_BY_XCONNECT))

    def test_a_circuit_id_wins_over_an_alias_and_a_cross_connect_id(self):
        own = self.make(self.provider, "SHARED-1")
        aliased = self.make(self.provider, "P-2")
        cross_connect(self.make(self.provider, "P-3"), "shared-1")
        CircuitAlias.objects.create(provider=self.provider, alias="Shared-1", circuit=aliased)
        self.assertEqual(self.match("shared-1"), ((own.pk, "SHARED-1", MATCHED_BY_CID), None))

    def test_an_alias_wins_over_a_cross_connect_id(self):
        aliased = self.make(self.provider, "P-2")
        cross_connect(self.make(self.provider, "P-3"), "XC-7")
        CircuitAlias.objects.create(provider=self.provider, alias="XC-7", circuit=aliased)
        self.assertEqual(self.match("xc-7"), ((aliased.pk, "P-2", MATCHED_BY_ALIAS), None))

    def test_a_cross_connect_id_shared_by_two_circuits_is_ambiguous_until_an_alias_says(self):
        first, second = self.make(self.provider, "P-B"), self.make(self.provider, "P-A")
        cross_connect(first, "XC-9")
        cross_connect(second, "XC-9")
        self.assertEqual(self.match("XC-9"), (None, ["P-A", "P-B"]))
        CircuitAlias.objects.create(provider=self.provider, alias="XC-9", circuit=first)
        self.assertEqual(self.match("XC-9"), ((first.pk, "P-B", MATCHED_BY_ALIAS), None))

    def test_another_providers_cross_connect_does_not_match_nor_make_it_ambiguous(self):
        mine = self.make(self.provider, "P-1")
        cross_connect(mine, "XC-5")
        cross_connect(self.make(self.other, "O-1"), "XC-5")
        self.assertEqual(self.match("XC-5"), ((mine.pk, "P-1", MATCHED_BY_XCONNECT), None))

    def test_the_same_queries_however_many_ids(self):
        for number in range(5):
            cross_connect(self.make(self.provider, f"P-{number}"), f"XC-{number}")
        wanted = {f"XC-{number}" for number in range(5)} | {"P-0", "NOPE"}
        with self.assertNumQueries(3):
            found = match_circuits({self.provider.pk, self.other.pk}, wanted).found
        self.assertEqual(len(found), 6)


class CrossConnectSyncTestCase(JobTestMixin, TransactionTestCase):
    """The real job over corpus mail that names a circuit only by a termination's cross-connect id."""

    def setUp(self):
        super().setUp()
        self.providers = create_providers_and_circuits(skip_cids=frozenset({GTT_CID}))
        self.folder = MailFolder()
        self.addCleanup(self.folder.cleanup)
        self.folder.add(MESSAGES["gtt7"], "gtt7")

    def sync(self):
        with self.configured([self.folder.source]):
            result, sync = self.run_sync()
        self.assertEqual(result.status, "SUCCESS", self.job_log(result))
        return sync

    def test_a_circuit_named_by_its_cross_connect_id_is_linked(self):
        circuit = circuit_like(self.providers["gtt"], "GTT-WAVE-0001")
        cross_connect(circuit, "  1098765-12345678 ", side="Z")  # spacing as a person typed it
        sync = self.sync()
        record = CircuitMaintenance.objects.get(maintenance_id="65430585")
        self.assertEqual(list(record.circuit_impacts.values_list("circuit__cid", flat=True)), ["GTT-WAVE-0001"])
        self.assertEqual(record.unresolved_circuit_ids, [])
        self.assertFalse(MaintenanceNote.objects.filter(maintenance=record).exists())
        self.assertEqual(RawNotification.objects.get().outcome, OutcomeChoices.PARSED)
        impact = record.circuit_impacts.get()
        entry = SyncLogEntry.objects.get(sync=sync, synced_object_id=impact.pk)
        self.assertIn(f"circuit GTT-WAVE-0001 added (OUTAGE), matched by cross-connect id {GTT_CID}", entry.message)

    def test_a_cross_connect_id_set_later_links_the_next_run(self):
        circuit = circuit_like(self.providers["gtt"], "GTT-WAVE-0001")
        termination = cross_connect(circuit, "")
        self.sync()
        record = CircuitMaintenance.objects.get(maintenance_id="65430585")
        self.assertEqual(record.unresolved_circuit_ids, [GTT_CID])
        termination.xconnect_id = GTT_CID
        termination.validated_save()
        sync = self.sync()  # no new mail: the stored maintenance is resolved again
        record.refresh_from_db()
        self.assertEqual(record.unresolved_circuit_ids, [])
        self.assertEqual(list(record.circuit_impacts.values_list("circuit__cid", flat=True)), ["GTT-WAVE-0001"])
        self.assertIn(
            f"circuit IDs now known {GTT_CID}", SyncLogEntry.objects.get(sync=sync, synced_object_id=record.pk).message
        )
        linked = [row for row in timeline_rows(record) if row.notice is None]
        self.assertEqual(
            [row.event for row in linked], [f"{GTT_CID} found as the cross-connect id of circuit GTT-WAVE-0001"]
        )

    def test_a_cross_connect_id_two_circuits_share_stays_unknown_and_says_why(self):
        for cid in ("GTT-WAVE-0002", "GTT-WAVE-0001"):
            cross_connect(circuit_like(self.providers["gtt"], cid), GTT_CID)
        self.sync()
        record = CircuitMaintenance.objects.get(maintenance_id="65430585")
        self.assertEqual(record.unresolved_circuit_ids, [GTT_CID])
        self.assertFalse(record.circuit_impacts.exists())
        note = MaintenanceNote.objects.get(maintenance=record)
        self.assertIn(f"{GTT_CID} is the cross-connect id of circuits GTT-WAVE-0001, GTT-WAVE-0002", note.comment)
        raw = RawNotification.objects.get()
        self.assertEqual(raw.outcome, OutcomeChoices.UNKNOWN_CIDS)
        self.assertIn("cross-connect id of circuits GTT-WAVE-0001, GTT-WAVE-0002", raw.error)
