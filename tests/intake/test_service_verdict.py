"""Gmail and Microsoft 365 sources trust the mailbox service's own verdict, on by default with the confirm policy.

Through the real sync job and the real client libraries (google-api-python-client, msal + requests) against the
loopback Gmail and Graph servers: the mailbox holds each notice as the service would, with the
Authentication-Results header the service stamps on receipt prepended to what the sender wrote.
"""

from __future__ import annotations

import shutil
import tempfile
import unittest
from datetime import datetime, timedelta, timezone
from pathlib import Path

from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st
from nautobot.apps.testing import TransactionTestCase

from nautobot_ssot_circuit_maintenance.choices import OutcomeChoices
from nautobot_ssot_circuit_maintenance.intake.authenticate import SERVICE_VERDICTS, AuthPolicy, authenticate
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance, RawNotification
from tests.fixtures.sample_data import corpus_by_name
from tests.intake.test_trust import API, SENDER, CarrierMixin, notice
from tests.servers.gmail_server import MODIFY, FakeGmail
from tests.servers.graph_server import FakeGraph

DOMAIN = SENDER.rpartition("@")[2]
NOW = datetime.now(timezone.utc).replace(microsecond=0)
FIRST, SECOND = NOW - timedelta(hours=3), NOW - timedelta(hours=2)
CORPUS = corpus_by_name()


def google_verdict(domain: str, passed: bool = True) -> bytes:
    """The header Google's MX prepends, in Google's form: a DKIM pass named by the signature's identity
    (`header.i`), SPF for the bounce domain of the mailing service the provider sends through, no DMARC record."""
    dkim = "pass" if passed else "fail"
    return (
        "Authentication-Results: mx.google.com;\r\n"
        f"       dkim={dkim} header.i=@{domain} header.s=s1 header.b=Q2xrT1ab;\r\n"
        "       spf=pass (google.com: domain of bounce@mailer.example designates 198.51.100.7 as permitted sender)"
        " smtp.mailfrom=bounce@mailer.example\r\n"
    ).encode()


def microsoft_verdict(domain: str, passed: bool = True) -> bytes:
    """The header Exchange Online prepends, in Microsoft's form: no authserv-id."""
    if passed:
        results = (
            f"spf=pass (sender IP is 198.51.100.7)\r\n smtp.mailfrom={domain}; dkim=pass (signature was verified)\r\n"
            f" header.d={domain};dmarc=pass action=none header.from={domain};compauth=pass reason=100"
        )
    else:
        results = (
            "spf=fail (sender IP is 203.0.113.66)\r\n smtp.mailfrom=evil.example; dkim=none (message not signed)\r\n"
            f" header.d=none;dmarc=fail action=quarantine header.from={DOMAIN};compauth=fail reason=001"
        )
    return f"Authentication-Results: {results}\r\n".encode()


class ServiceVerdictMixin(CarrierMixin):
    """The carrier's notices in a mailbox service; subclasses start the service and say how it stamps."""

    kind = ""  # the source's kind, the prefix of its notifications' locations
    service = ""  # the authserv-id its verdict is read under

    def stamp(self, domain: str, passed: bool = True) -> bytes:
        raise NotImplementedError

    def forged(self) -> bytes:
        """What a forger writes: the header the service's verdict would be, passing for the carrier."""
        raise NotImplementedError

    def add(self, raw: bytes, received: datetime) -> str:
        raise NotImplementedError

    def source(self, **extra) -> dict:
        raise NotImplementedError

    def deliver_all(self, messages: dict[str, tuple[bytes, datetime]], **extra) -> dict[str, RawNotification]:
        """The messages land in the mailbox and one real sync runs; their stored notifications by name."""
        ids = {name: self.add(raw, received) for name, (raw, received) in messages.items()}
        with self.configured([self.source(**extra)], **self.settings):
            result, _ = self.run_sync()
        self.assertEqual(result.status, "SUCCESS", self.job_log(result))
        return {name: RawNotification.objects.get(location=f"{self.kind}:{ids[name]}") for name in ids}

    def status_of(self, maintenance_id: str) -> str:
        return CircuitMaintenance.objects.get(provider=self.carrier, maintenance_id=maintenance_id).status

    def genuine(self, status: str = "CONFIRMED", *, maintenance_id: str = "CAR-1", sequence: int = 1) -> bytes:
        sent = (FIRST if sequence == 1 else SECOND) - timedelta(minutes=1)
        return self.stamp(DOMAIN) + notice(status, sequence=sequence, sent=sent, maintenance_id=maintenance_id)

    def cancellation(self, maintenance_id: str) -> bytes:
        return notice("CANCELLED", sequence=2, sent=SECOND - timedelta(minutes=1), maintenance_id=maintenance_id)

    def test_a_notice_the_service_vouches_for_counts_and_so_does_its_cancellation(self):
        first = self.deliver_all({"first": (self.genuine(), FIRST)})["first"]
        self.assertEqual(first.outcome, OutcomeChoices.PARSED)
        self.assertIs(first.sender_authenticated, True, first.error)
        self.assertEqual(self.status_of("CAR-1"), "CONFIRMED")
        cancel = self.deliver_all({"cancel": (self.genuine("CANCELLED", sequence=2), SECOND)})["cancel"]
        self.assertIs(cancel.sender_authenticated, True, cancel.error)
        self.assertEqual(cancel.outcome, OutcomeChoices.PARSED)
        self.assertEqual(self.status_of("CAR-1"), "CANCELLED")
        self.assertFalse(RawNotification.objects.needs_triage().exists())

    def test_a_cancellation_the_service_does_not_vouch_for_waits_until_a_person_confirms_it(self):
        cases = {
            "no verdict": b"",
            "a forged pass below the service's failing verdict": self.stamp(DOMAIN, passed=False) + self.forged(),
            "a pass for another domain": self.stamp("mailer.example"),
        }
        ids = {case: f"CAR-{number}" for number, case in enumerate(cases, start=1)}
        firsts = self.deliver_all({case: (self.genuine(maintenance_id=ids[case]), FIRST) for case in cases})
        self.assertTrue(all(first.sender_authenticated for first in firsts.values()))
        cancels = self.deliver_all(
            {case: (header + self.cancellation(ids[case]), SECOND) for case, header in cases.items()}
        )
        for case, cancel in cancels.items():
            with self.subTest(case):
                self.assertIs(cancel.sender_authenticated, False)
                self.assertEqual(cancel.outcome, OutcomeChoices.AWAITING_CONFIRMATION, cancel.error)
                self.assertIn(f"the topmost Authentication-Results ({self.service}) shows no pass for", cancel.error)
                self.assertIn("status CONFIRMED → CANCELLED", cancel.error)
                self.assertEqual(self.status_of(ids[case]), "CONFIRMED")
                self.assertTrue(RawNotification.objects.filter(pk=cancel.pk).needs_triage().exists())
                response = self.post(reverse(f"{API}:rawnotification-confirm", args=[cancel.pk]))
                self.assertEqual(response.status_code, 200, response.content)
                self.assertEqual(self.status_of(ids[case]), "CANCELLED")
                self.assertFalse(RawNotification.objects.filter(pk=cancel.pk).needs_triage().exists())

    def test_a_new_maintenance_from_an_unauthenticated_sender_is_still_created(self):
        raw = self.stamp(DOMAIN, passed=False) + notice(sent=FIRST - timedelta(minutes=1))
        first = self.deliver_all({"first": (raw, FIRST)})["first"]
        self.assertIs(first.sender_authenticated, False)
        self.assertEqual(first.outcome, OutcomeChoices.PARSED)
        self.assertEqual(self.status_of("CAR-1"), "CONFIRMED")

    def test_a_source_that_says_apply_opts_out_and_its_unauthenticated_cancellation_applies(self):
        policy = {"authentication": {"unauthenticated": "apply"}}
        self.deliver_all({"first": (self.genuine(), FIRST)}, **policy)
        cancel = self.deliver_all({"cancel": (self.cancellation("CAR-1"), SECOND)}, **policy)["cancel"]
        self.assertIs(cancel.sender_authenticated, False, "the verdict is still stored")
        self.assertEqual(cancel.outcome, OutcomeChoices.PARSED)
        self.assertEqual(self.status_of("CAR-1"), "CANCELLED")

    def test_a_source_that_does_not_require_it_checks_nothing(self):
        policy = {"authentication": {"require": False}}
        self.deliver_all({"first": (notice(sent=FIRST - timedelta(minutes=1)), FIRST)}, **policy)
        cancel = self.deliver_all({"cancel": (self.cancellation("CAR-1"), SECOND)}, **policy)["cancel"]
        self.assertIsNone(cancel.sender_authenticated)
        self.assertEqual(cancel.outcome, OutcomeChoices.PARSED)
        self.assertEqual(self.status_of("CAR-1"), "CANCELLED")

    def test_a_source_that_says_refuse_drops_what_the_service_does_not_vouch_for(self):
        policy = {"authentication": {"unauthenticated": "refuse"}}
        self.deliver_all({"first": (self.genuine(), FIRST)}, **policy)
        cancel = self.deliver_all({"cancel": (self.cancellation("CAR-1"), SECOND)}, **policy)["cancel"]
        self.assertEqual(cancel.outcome, OutcomeChoices.UNAUTHENTICATED)
        self.assertEqual(self.status_of("CAR-1"), "CONFIRMED")
        # The carrier's own cancellation (another message: a copy with the same Message-ID and body is known already).
        genuine = self.stamp(DOMAIN) + notice("CANCELLED", sequence=2, sent=SECOND - timedelta(seconds=30))
        cancel = self.deliver_all({"again": (genuine, SECOND)}, **policy)["again"]
        self.assertEqual(cancel.outcome, OutcomeChoices.PARSED, cancel.error)
        self.assertEqual(self.status_of("CAR-1"), "CANCELLED")


class GmailServiceVerdictTestCase(ServiceVerdictMixin, TransactionTestCase):
    kind = "gmail"
    service = "mx.google.com"

    def setUp(self):
        super().setUp()
        self.gmail = FakeGmail().start()
        self.addCleanup(self.gmail.stop)
        directory = Path(tempfile.mkdtemp(prefix="cm-gmail-verdict-"))
        self.addCleanup(shutil.rmtree, directory, True)
        self.key_file = self.gmail.service_account_file(directory / "sa.json")

    def stamp(self, domain: str, passed: bool = True) -> bytes:
        return google_verdict(domain, passed)

    def forged(self) -> bytes:
        results = f"dkim=pass header.d={DOMAIN}; dmarc=pass header.from={DOMAIN}"
        return f"Authentication-Results: mx.google.com; {results}\r\n".encode()

    def add(self, raw: bytes, received: datetime) -> str:
        return self.gmail.add(raw, received)

    def source(self, **extra) -> dict:
        return {
            "name": "Gmail NOC",
            "url": "https://accounts.google.com/o/oauth2/auth",
            "account": self.gmail.account,
            "credentials_file": str(self.key_file),
            "api_endpoint": self.gmail.url,
            "extra_scopes": [MODIFY],
            "attach_all_providers": True,
            **extra,
        }

    def test_an_id_less_header_on_top_is_not_googles(self):
        # Google always names itself; a header with no authserv-id in a Gmail mailbox is someone else's.
        self.deliver_all({"first": (self.genuine(), FIRST)})
        forged = microsoft_verdict(DOMAIN)
        cancel = self.deliver_all({"cancel": (forged + self.cancellation("CAR-1"), SECOND)})["cancel"]
        self.assertIs(cancel.sender_authenticated, False)
        self.assertEqual(cancel.outcome, OutcomeChoices.AWAITING_CONFIRMATION)
        self.assertEqual(self.status_of("CAR-1"), "CONFIRMED")

    def test_real_mail_as_google_stamped_it(self):
        # AT&T's notice reached Gmail directly: Google's header shows SPF passing for att.com. Zayo's came through
        # a Google Group: Google vouches for the group's domain only (Zayo's own pass is in a comment and in ARC).
        # Tata's was received by Exchange Online: Microsoft's header on top is not Google's.
        mail = self.deliver_all({name: (CORPUS[name], FIRST) for name in ("att1", "zayo4", "tata_email")})
        self.assertIs(mail["att1"].sender_authenticated, True, mail["att1"].error)
        self.assertIs(mail["zayo4"].sender_authenticated, False)
        self.assertIn("(mx.google.com) shows no pass for zayo.com", mail["zayo4"].error)
        self.assertIs(mail["tata_email"].sender_authenticated, False)
        for name in ("att1", "zayo4"):
            self.assertEqual(mail[name].outcome, OutcomeChoices.PARSED, "new maintenances count either way")


class GraphServiceVerdictTestCase(ServiceVerdictMixin, TransactionTestCase):
    kind = "graph"
    service = "exchange-online"

    def setUp(self):
        super().setUp()
        self.graph = FakeGraph().start()
        self.addCleanup(self.graph.stop)

    def stamp(self, domain: str, passed: bool = True) -> bytes:
        return microsoft_verdict(domain, passed)

    def forged(self) -> bytes:
        # Both forms a forger might try: Microsoft's own (no authserv-id) and the name it is read under.
        results = f"dkim=pass header.d={DOMAIN}; dmarc=pass header.from={DOMAIN}"
        return microsoft_verdict(DOMAIN) + f"Authentication-Results: exchange-online; {results}\r\n".encode()

    def add(self, raw: bytes, received: datetime) -> str:
        return self.graph.add(raw, received)

    def source(self, **extra) -> dict:
        return {"name": "M365 NOC", "attach_all_providers": True, **self.graph.source_keys(**extra)}

    def test_real_mail_as_microsoft_stamped_it(self):
        # Tata's and PCCW's notices were received by Exchange Online, which stamped its id-less header on top
        # (PCCW's passes by SPF and DMARC for pccwglobal.com; its DKIM is a ticketing service's, onbmc.com).
        # AT&T's carries Google's header on top: that is not Microsoft's word.
        mail = self.deliver_all({name: (CORPUS[name], FIRST) for name in ("tata_email", "pccw_email", "att1")})
        self.assertIs(mail["tata_email"].sender_authenticated, True, mail["tata_email"].error)
        self.assertIs(mail["pccw_email"].sender_authenticated, True, mail["pccw_email"].error)
        self.assertIs(mail["att1"].sender_authenticated, False)
        self.assertIn("(exchange-online) shows no pass for att.com", mail["att1"].error)

    def test_googles_verdict_does_not_count_in_a_microsoft_mailbox(self):
        raw = google_verdict(DOMAIN) + notice(sent=FIRST - timedelta(minutes=1))
        first = self.deliver_all({"first": (raw, FIRST)})["first"]
        self.assertIs(first.sender_authenticated, False)


# --- the rule itself, over generated forgeries -----------------------------------------------------------------

FORGED_RESULTS = st.builds(
    lambda authserv_id, method, domain: (
        f"Authentication-Results: {authserv_id}{method}=pass header.d={domain} header.i=@{domain}"
        f" header.from={domain} smtp.mailfrom=noc@{domain}\r\n"
    ),
    st.sampled_from(["mx.google.com; ", "exchange-online; ", "", "mx.example.net; ", "MX.Google.Com; "]),
    st.sampled_from(["dkim", "spf", "dmarc"]),
    st.sampled_from([DOMAIN, "mail." + DOMAIN, "example"]),
)


class TopmostOnlyPropertyTest(unittest.TestCase):
    """Whatever passing headers a sender writes, only the one the service put on top decides."""

    @settings(max_examples=300, deadline=None)
    @given(
        kind=st.sampled_from(sorted(SERVICE_VERDICTS)),
        service_passes=st.booleans(),
        forged=st.lists(FORGED_RESULTS, max_size=6),
    )
    def test_only_the_services_topmost_header_decides(self, kind, service_passes, forged):
        stamp = google_verdict if kind == "gmail" else microsoft_verdict
        raw = stamp(DOMAIN, service_passes) + "".join(forged).encode() + notice(sent=FIRST, maintenance_id="CAR-9")
        policy = AuthPolicy(required=True, action="confirm", dkim=False, service_verdict=SERVICE_VERDICTS[kind])
        verdict = authenticate(raw, {SENDER}, policy)
        self.assertIs(verdict.authenticated, service_passes, verdict.reason)
