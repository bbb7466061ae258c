"""Authentication of forwarded notices, through the real job: the forwarder's own authentication is believed.

The forward's DKIM signature, a trusted Authentication-Results, or a trusted ARC seal must vouch for the
forwarder's address (one of the source's `forwarders`); the notice's own signature, which forwarding breaks, is
not asked for. An unauthenticated forward goes where unauthenticated direct mail goes under the source's policy.
Signatures are made here with dkimpy and keys of ours (tests/intake/test_authenticate.py).
"""

from __future__ import annotations

from nautobot.apps.testing import TransactionTestCase

from nautobot_ssot_circuit_maintenance.choices import OutcomeChoices
from nautobot_ssot_circuit_maintenance.intake import authenticate as auth
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance, RawNotification
from tests.fixtures.forwards import forward_attached, forward_gmail
from tests.fixtures.job_helpers import JobTestMixin, MailFolder
from tests.fixtures.sample_data import corpus_by_name, create_providers_and_circuits
from tests.intake.test_authenticate import bare, dns, sealed, signed, with_results

MESSAGES = corpus_by_name()


class ForwardTrustTestCase(JobTestMixin, TransactionTestCase):
    def setUp(self):
        super().setUp()
        create_providers_and_circuits()
        self.folder = MailFolder()
        self.addCleanup(self.folder.cleanup)
        auth.DNS_FUNC = dns
        self.addCleanup(setattr, auth, "DNS_FUNC", None)

    def sync(self, **authentication) -> dict[str, RawNotification]:
        source = {
            **self.folder.source,
            "forwarders": ["@example.net"],
            "authentication": {"require": True, "trusted_arc_sealers": ["lists.example"], **authentication},
        }
        with self.configured([source]):
            result, _ = self.run_sync()
        self.assertEqual(result.status, "SUCCESS", self.job_log(result))
        return {raw.location.split("-", 1)[1].removesuffix(".eml"): raw for raw in RawNotification.objects.all()}

    def test_the_forwarders_own_authentication_is_believed(self):
        # Signed by the forwarder's domain (the notice inside carries no valid signature of Zayo's).
        self.folder.add(signed(forward_attached(bare(MESSAGES["zayo4"]), "dkim"), "example.net"), "dkim")
        # A trusted Authentication-Results for the forwarder's domain.
        results = with_results(
            forward_gmail(MESSAGES["gtt7"], "results"), "mx.noc.example; dkim=pass header.d=example.net"
        )
        self.folder.add(results, "results")
        # Relayed and sealed by a trusted ARC sealer, which recorded the forwarder's DKIM pass.
        arc = sealed(forward_attached(MESSAGES["zayo5"], "arc"), "lists.example", "dkim=pass header.d=example.net")
        self.folder.add(arc, "arc")
        # Unauthenticated: no signature, no result.
        self.folder.add(forward_attached(MESSAGES["crowncastle1"], "none"), "none")
        # Signed, but by the provider's domain, not the forwarder's: the notice's authentication is not the forward's.
        self.folder.add(signed(forward_attached(bare(MESSAGES["zayo6"]), "other"), "zayo.com"), "other")
        # Results for a domain that is not the forwarder's.
        wrong = with_results(forward_gmail(MESSAGES["att1"], "wrong"), "mx.noc.example; dkim=pass header.d=att.com")
        self.folder.add(wrong, "wrong")
        stored = self.sync(trusted_authserv_ids=["mx.noc.example"])

        for name in ("dkim", "results", "arc"):
            self.assertEqual(stored[name].outcome, OutcomeChoices.PARSED, f"{name}: {stored[name].error}")
            self.assertIs(stored[name].sender_authenticated, True, name)
            self.assertIn("nora@example.net", stored[name].forwarded_by)
        for name in ("none", "other", "wrong"):
            self.assertEqual(stored[name].outcome, OutcomeChoices.UNAUTHENTICATED, name)
            self.assertIs(stored[name].sender_authenticated, False, name)
            self.assertIn("forward: sender nora@example.net not authenticated for example.net", stored[name].error)
            self.assertFalse(stored[name].parsed_notifications.exists(), name)
        self.assertEqual(
            set(CircuitMaintenance.objects.values_list("maintenance_id", flat=True)),
            {
                m
                for raw in ("dkim", "results", "arc")
                for m in stored[raw].parsed_notifications.values_list("maintenance__maintenance_id", flat=True)
            },
        )

    def test_an_unauthenticated_forward_under_confirm_counts_as_direct_mail_would(self):
        self.folder.add(forward_attached(MESSAGES["zayo4"], "none"), "none")
        stored = self.sync(unauthenticated="confirm")
        self.assertEqual(stored["none"].outcome, OutcomeChoices.PARSED, stored["none"].error)
        self.assertIs(stored["none"].sender_authenticated, False)
        self.assertTrue(CircuitMaintenance.objects.filter(maintenance_id="TTN-0002345678").exists())
