"""Sender authentication (issue 8): DKIM with keys of ours, trusted Authentication-Results, the stored outcome.

dkimpy verifies real signatures made here with RSA keys generated per run; its DNS lookup is answered
from those keys (`dnsfunc`), the only part replaced. The job tests run the real sync over a local folder.
"""

from __future__ import annotations

import base64
from functools import cache

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import SimpleTestCase
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nautobot.apps.testing import TransactionTestCase

from nautobot_ssot_circuit_maintenance.choices import OutcomeChoices
from nautobot_ssot_circuit_maintenance.config import ConfigurationError, validate_config
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance, RawNotification
from nautobot_ssot_circuit_maintenance.pipeline import authenticate as auth
from nautobot_ssot_circuit_maintenance.pipeline.authenticate import AuthPolicy, authenticate, policy_for
from nautobot_ssot_circuit_maintenance.sources.base import SourceSettings
from tests.hostile_mail import hostile_mail
from tests.job_helpers import JobTestMixin, MailFolder
from tests.sample_data import corpus_messages, create_providers_and_circuits

MESSAGES = {name: raw for name, raw, _ in corpus_messages()}
ZAYO = {"zayo.com"}
REQUIRED = AuthPolicy(required=True, trusted_authserv_ids=("mx.noc.example",))
SIGNED_HEADERS = [b"from", b"to", b"subject", b"date", b"message-id"]


@cache
def key_pair(domain: str) -> tuple[bytes, bytes]:
    """(private PEM, DNS TXT record) for `domain`, generated once per run."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


def dns(name: bytes, timeout: int = 5) -> bytes | None:
    """TXT answers for `sel._domainkey.<domain>` from our keys; nothing else resolves."""
    name = name.decode() if isinstance(name, bytes) else name
    selector, _, domain = name.rstrip(".").partition("._domainkey.")
    return key_pair(domain)[1] if selector == "sel" else None


def signed(raw: bytes, domain: str = "zayo.com", key_domain: str | None = None) -> bytes:
    raw = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    signature = dkim.sign(
        raw, b"sel", domain.encode(), key_pair(key_domain or domain)[0], include_headers=SIGNED_HEADERS
    )
    return signature + raw


def unsigned(raw: bytes) -> bytes:
    """`raw` without its DKIM-Signature headers (the corpus keeps the providers' original, unverifiable ones)."""
    head, sep, body = raw.partition(b"\r\n\r\n") if b"\r\n\r\n" in raw else raw.partition(b"\n\n")
    lines, skipping = [], False
    for line in head.splitlines(keepends=True):
        if line[:1] in (b" ", b"\t") and skipping:
            continue
        skipping = line.lower().startswith(b"dkim-signature:")
        if not skipping:
            lines.append(line)
    return b"".join(lines) + sep + body


def with_results(raw: bytes, value: str) -> bytes:
    return f"Authentication-Results: {value}\r\n".encode() + raw


class AuthenticateTestCase(SimpleTestCase):
    def check(self, raw: bytes, policy: AuthPolicy = REQUIRED, domains: set[str] = ZAYO):
        return authenticate(raw, domains, policy, dnsfunc=dns)

    def test_resigned_corpus_mail_passes(self):
        verdict = self.check(signed(MESSAGES["zayo4"]))
        self.assertTrue(verdict.authenticated, verdict.reason)
        self.assertIn("zayo.com", verdict.reason)
        # A parent domain of the provider's addresses aligns too.
        self.assertTrue(self.check(signed(MESSAGES["zayo4"]), domains={"noc.zayo.com"}).authenticated)

    def test_altered_mail_is_refused(self):
        good = signed(MESSAGES["zayo4"])
        for old, new in ((b"Zayo", b"Zayq"), (b"Subject: ", b"Subject: URGENT ")):
            altered = good.replace(old, new, 1) if old != b"Zayo" else good[:-200] + good[-200:].replace(b"e", b"a", 1)
            self.assertNotEqual(altered, good)
            verdict = self.check(altered)
            self.assertFalse(verdict.authenticated, old)
            self.assertIn("does not verify", verdict.reason)

    def test_unsigned_mail_is_refused(self):
        self.assertIn(b"DKIM-Signature", MESSAGES["zayo4"])
        verdict = self.check(unsigned(MESSAGES["zayo4"]))
        self.assertFalse(verdict.authenticated)
        self.assertIn("no DKIM signature and no trusted Authentication-Results", verdict.reason)
        # As the corpus holds it: the provider's original signature (d=example.com) does not verify here.
        verdict = self.check(MESSAGES["zayo4"])
        self.assertFalse(verdict.authenticated)
        self.assertIn("does not verify", verdict.reason)

    def test_a_good_signature_of_another_domain_is_refused(self):
        verdict = self.check(signed(MESSAGES["zayo4"], "attacker.example"))
        self.assertFalse(verdict.authenticated)
        self.assertIn("not the provider's domain", verdict.reason)
        # Signed in zayo.com's name with a key that is not zayo.com's.
        self.assertFalse(self.check(signed(MESSAGES["zayo4"], "zayo.com", key_domain="attacker.example")).authenticated)

    def test_trusted_authentication_results(self):
        unsigned = MESSAGES["zayo4"]
        for value in (
            "mx.noc.example; dkim=pass header.d=zayo.com header.s=sel",
            "mx.noc.example; spf=pass smtp.mailfrom=bounce@zayo.com",
            "mx.noc.example; dmarc=pass header.from=zayo.com",
        ):
            verdict = self.check(with_results(unsigned, value))
            self.assertTrue(verdict.authenticated, (value, verdict.reason))
        for value in (
            "mx.attacker.example; dkim=pass header.d=zayo.com",  # not a trusted authserv-id
            "mx.noc.example; dkim=fail header.d=zayo.com",
            "mx.noc.example; dkim=pass header.d=attacker.example",
            "mx.noc.example; dkim=pass header.d=com",
            "mx.noc.example; garbage ;;; =",
        ):
            self.assertFalse(self.check(with_results(unsigned, value)).authenticated, value)
        # Only the accepted methods count.
        spf_only = AuthPolicy(required=True, trusted_authserv_ids=("mx.noc.example",), methods=("dmarc",))
        self.assertFalse(
            self.check(
                with_results(unsigned, "mx.noc.example; spf=pass smtp.mailfrom=a@zayo.com"), spf_only
            ).authenticated
        )

    def test_signed_mail_with_and_without_trusted_results(self):
        good = signed(MESSAGES["zayo4"])
        self.assertTrue(self.check(with_results(good, "mx.attacker.example; dkim=fail")).authenticated)
        # DKIM switched off: only the trusted header can prove it.
        no_dkim = AuthPolicy(required=True, dkim=False, trusted_authserv_ids=("mx.noc.example",))
        self.assertFalse(self.check(good, no_dkim).authenticated)
        self.assertTrue(
            self.check(with_results(good, "mx.noc.example; dkim=pass header.d=zayo.com"), no_dkim).authenticated
        )

    def test_not_required_lets_anything_through(self):
        self.assertTrue(self.check(b"garbage", AuthPolicy()).authenticated)
        self.assertFalse(self.check(signed(MESSAGES["zayo4"]), domains=set()).authenticated)

    def test_policy_per_source_and_per_provider(self):
        app = {"sender_authentication": {"providers": ["Zayo"], "trusted_authserv_ids": ["mx.a"]}}
        plain = SourceSettings(name="s", url="file:///x")
        strict = SourceSettings(
            name="t",
            url="file:///x",
            extra={"authentication": {"require": True, "trusted_authserv_ids": ["mx.b"], "dkim": False}},
        )
        self.assertTrue(policy_for(app, plain, "zayo").required)
        self.assertFalse(policy_for(app, plain, "GTT").required)
        self.assertFalse(policy_for({}, plain, "Zayo").required)
        policy = policy_for(app, strict, "GTT")
        self.assertEqual((policy.required, policy.dkim, policy.trusted_authserv_ids), (True, False, ("mx.a", "mx.b")))

    def test_configuration_is_validated(self):
        validate_config({"sender_authentication": {"providers": ["Zayo"], "methods": ["dkim"]}})
        validate_config(
            {"notification_sources": [{"name": "a", "url": "file:///x", "authentication": {"require": True}}]}
        )
        for bad in (
            {"sender_authentication": {"methods": ["arc"]}},
            {"sender_authentication": {"trusted": ["x"]}},
            {"notification_sources": [{"name": "a", "url": "file:///x", "authentication": {"require": "yes"}}]},
            {"push": {"authentication": {"require": True, "unknown": 1}}},
        ):
            with self.assertRaises(ConfigurationError, msg=bad):
                validate_config(bad)

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(mail=hostile_mail, token=st.integers(0, 10**9), results=st.booleans())
    def test_hostile_mail_never_raises(self, mail, token, results):
        raw = mail.render(f"a{token}")
        if results:
            raw = with_results(raw, "mx.noc.example; dkim=pass header.d=" + "x" * 300)
        if token % 3 == 0:
            try:
                raw = signed(raw)
            except dkim.DKIMException:  # too broken to sign: checked unsigned
                pass
        verdict = self.check(raw)
        self.assertIsInstance(verdict.authenticated, bool)


class AuthenticatedSyncTestCase(JobTestMixin, TransactionTestCase):
    """Through the real job: a refused notice is stored `unauthenticated` and changes nothing."""

    def setUp(self):
        super().setUp()
        self.providers = create_providers_and_circuits()
        self.folder = MailFolder()
        self.addCleanup(self.folder.cleanup)
        auth.DNS_FUNC = dns
        self.addCleanup(setattr, auth, "DNS_FUNC", None)

    def source(self, **authentication) -> dict:
        return {**self.folder.source, "authentication": {"require": True, **authentication}}

    def test_unsigned_is_refused_signed_is_synced(self):
        self.folder.add(MESSAGES["zayo4"], "unsigned")
        with self.configured([self.source()]):
            result, _ = self.run_sync()
        self.assertEqual(result.status, "SUCCESS", self.job_log(result))
        raw = RawNotification.objects.get()
        self.assertEqual(raw.outcome, OutcomeChoices.UNAUTHENTICATED)
        self.assertIn("not authenticated for zayo.com", raw.error)
        self.assertFalse(raw.parsed_notifications.exists())
        self.assertFalse(CircuitMaintenance.objects.exists())
        # A person decides: it is in the triage queue.
        self.assertEqual(list(RawNotification.objects.needs_triage()), [raw])

        # The same notice signed by zayo.com (a different body hash: it is a new message) is synced.
        self.folder.add(signed(MESSAGES["zayo4"] + b"\n"), "signed")
        with self.configured([self.source()]):
            result, _ = self.run_sync()
        self.assertEqual(result.status, "SUCCESS", self.job_log(result))
        self.assertEqual(
            sorted(RawNotification.objects.values_list("outcome", flat=True)), ["parsed", "unauthenticated"]
        )
        self.assertEqual(CircuitMaintenance.objects.filter(provider=self.providers["zayo"]).count(), 1)

    def test_per_provider_setting_and_trusted_results(self):
        self.folder.add(MESSAGES["zayo4"], "unsigned")
        self.folder.add(with_results(MESSAGES["zayo5"], "mx.noc.example; dmarc=pass header.from=zayo.com"), "results")
        config = {"sender_authentication": {"providers": ["Zayo"], "trusted_authserv_ids": ["mx.noc.example"]}}
        with self.configured([self.folder.source], **config):
            result, _ = self.run_sync()
        self.assertEqual(result.status, "SUCCESS", self.job_log(result))
        outcomes = dict(RawNotification.objects.values_list("location", "outcome"))
        self.assertEqual(sorted(outcomes.values()), ["parsed", "unauthenticated"], outcomes)
        self.assertIn("unsigned", next(loc for loc, o in outcomes.items() if o == "unauthenticated"))
