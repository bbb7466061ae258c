"""Sender authentication (issues 8 and 18): DKIM and ARC with keys of ours, trusted Authentication-Results,
alignment with the sender address, the stored outcome.

dkimpy signs, seals and verifies real signatures made here with RSA keys generated per run; its DNS lookup is
answered from those keys (`dnsfunc`), the only part replaced. The job tests run the real sync over a local folder.
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
from nautobot_ssot_circuit_maintenance.config import ConfigurationError, SourceSettings, validate_config
from nautobot_ssot_circuit_maintenance.intake import authenticate as auth
from nautobot_ssot_circuit_maintenance.intake.authenticate import AuthPolicy, authenticate, policy_for
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance, RawNotification
from nautobot_ssot_circuit_maintenance.triage import actions
from tests.fixtures.hostile_mail import hostile_mail
from tests.fixtures.job_helpers import JobTestMixin, MailFolder
from tests.fixtures.sample_data import corpus_by_name, create_providers_and_circuits

MESSAGES = corpus_by_name()
# What Zayo claims: its whole domain (`@zayo.com` in "Emails for Circuit Maintenance").
ZAYO = {"@zayo.com"}
REQUIRED = AuthPolicy(required=True, trusted_authserv_ids=("mx.noc.example",))
SIGNED_HEADERS = [b"from", b"to", b"subject", b"date", b"message-id"]
ARC_SEALERS = ("google.com", "lists.example")
COVERED = (b"From", b"Subject", b"Date", b"Message-ID")
ARC_HEADERS = (
    b"ARC-Seal",
    b"ARC-Message-Signature",
    b"ARC-Authentication-Results",
    b"Authentication-Results",
    b"DKIM-Signature",
)


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


def crlf(raw: bytes) -> bytes:
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def signed(
    raw: bytes,
    domain: str = "zayo.com",
    key_domain: str | None = None,
    *,
    headers: list[bytes] = SIGNED_HEADERS,
    length: bool = False,
) -> bytes:
    raw = crlf(raw)
    signature = dkim.sign(
        raw, b"sel", domain.encode(), key_pair(key_domain or domain)[0], include_headers=headers, length=length
    )
    return signature + raw


def without(raw: bytes, *names: bytes) -> bytes:
    """`raw` without the headers named (and their continuation lines)."""
    wanted = {name.lower() + b":" for name in names}
    head, sep, body = raw.partition(b"\r\n\r\n") if b"\r\n\r\n" in raw else raw.partition(b"\n\n")
    lines, skipping = [], False
    for line in head.splitlines(keepends=True):
        if line[:1] in (b" ", b"\t") and skipping:
            continue
        skipping = any(line.lower().startswith(name) for name in wanted)
        if not skipping:
            lines.append(line)
    return b"".join(lines) + sep + body


def unsigned(raw: bytes) -> bytes:
    """`raw` without its DKIM-Signature headers (the corpus keeps the providers' original, unverifiable ones)."""
    return without(raw, b"DKIM-Signature")


def bare(raw: bytes) -> bytes:
    """`raw` without any signature, seal or result (the corpus keeps Google's, which cannot verify here)."""
    return crlf(without(raw, *ARC_HEADERS))


def sealed(raw: bytes, sealer: str, results: str, *, key_domain: str | None = None) -> bytes:
    """`raw` as `sealer` passes it on: its Authentication-Results (`results`) added, then an ARC set sealed by it."""
    raw = crlf(raw)
    raw = f"Authentication-Results: {sealer}; {results}\r\n".encode() + raw
    arc_set = dkim.arc_sign(
        raw, b"sel", sealer.encode(), key_pair(key_domain or sealer)[0], sealer.encode(), include_headers=SIGNED_HEADERS
    )
    assert arc_set, "dkimpy made no ARC set"
    return b"".join(arc_set) + raw


def split(raw: bytes) -> tuple[bytes, bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    return head + b"\r\n", body


def prepended(raw: bytes, name: bytes, value: bytes) -> bytes:
    return name + b": " + value + b"\r\n" + raw


def appended(raw: bytes, name: bytes, value: bytes) -> bytes:
    """A header added at the end of the header block (where a DKIM verifier looks for the signed instance first)."""
    head, body = split(raw)
    return head + name + b": " + value + b"\r\n\r\n" + body


def from_header(raw: bytes, value: bytes) -> bytes:
    """`raw` with its From replaced (before signing)."""
    head, body = split(crlf(raw))
    lines = [line for line in head.split(b"\r\n") if line and not line.lower().startswith(b"from:")]
    return b"\r\n".join([b"From: " + value, *lines]) + b"\r\n\r\n" + body


def with_results(raw: bytes, value: str) -> bytes:
    return f"Authentication-Results: {value}\r\n".encode() + raw


class AuthenticateTestCase(SimpleTestCase):
    def check(self, raw: bytes, policy: AuthPolicy = REQUIRED, domains: set[str] = ZAYO):
        return authenticate(raw, domains, policy, dnsfunc=dns)

    def test_resigned_corpus_mail_passes(self):
        verdict = self.check(signed(MESSAGES["zayo4"]))
        self.assertTrue(verdict.authenticated, verdict.reason)
        self.assertIn("zayo.com", verdict.reason)
        # A signature of a parent domain of the sender's aligns too (noc.zayo.com's mail signed by zayo.com).
        noc = from_header(MESSAGES["zayo4"], b"MR Zayo <mr@noc.zayo.com>")
        self.assertTrue(self.check(signed(noc), domains={"@noc.zayo.com"}).authenticated)
        # And of a child: zayo.com's mail signed by mail.zayo.com.
        self.assertTrue(self.check(signed(MESSAGES["zayo4"], "mail.zayo.com")).authenticated)

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
        self.assertIn("not aligned with zayo.com", verdict.reason)
        # A bare top-level domain aligns with nothing.
        self.assertFalse(self.check(signed(MESSAGES["zayo4"], "com")).authenticated)
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
        if token % 5 == 0:
            try:
                raw = sealed(raw, "lists.example", "dkim=pass header.d=zayo.com")
            except Exception:  # noqa: BLE001, S110 - too broken to seal (dkimpy and authres raise their own): unsealed
                pass
        verdict = self.check(raw)
        self.assertIsInstance(verdict.authenticated, bool)
        # With ARC verified too (the corpus mail carries Google's seals, which cannot validate here).
        policy = AuthPolicy(required=True, trusted_authserv_ids=("mx.noc.example",), trusted_arc_sealers=ARC_SEALERS)
        self.assertIsInstance(self.check(raw, policy).authenticated, bool)


# A provider after triage assigned it one address of a free-mail domain ("whole domain" off).
ZAYO_AND_ONE_FREEMAIL = {"@zayo.com", "mr@freemail.example"}
FREEMAIL_RESULTS = "mx.noc.example; dkim=pass header.d=freemail.example; spf=pass smtp.mailfrom=a@freemail.example"


class AlignmentTestCase(SimpleTestCase):
    """What is authenticated is the sender address of this message, and only an address the provider claims."""

    def check(self, raw: bytes, claimed: set[str] = ZAYO, policy: AuthPolicy = REQUIRED):
        return authenticate(raw, claimed, policy, dnsfunc=dns)

    def test_one_assigned_address_does_not_trust_its_domain(self):
        zayo = bare(MESSAGES["zayo4"])
        # Mail From mr@zayo.com proven only for freemail.example: not aligned with zayo.com.
        for forged in (with_results(zayo, FREEMAIL_RESULTS), signed(zayo, "freemail.example")):
            verdict = self.check(forged, ZAYO_AND_ONE_FREEMAIL)
            self.assertFalse(verdict.authenticated, verdict.reason)
            self.assertIn("not authenticated for zayo.com", verdict.reason)
        # The assigned address itself, proven for its domain, is authenticated ...
        freemail = from_header(zayo, b"MR <mr@freemail.example>")
        for genuine in (with_results(freemail, FREEMAIL_RESULTS), signed(freemail, "freemail.example")):
            verdict = self.check(genuine, ZAYO_AND_ONE_FREEMAIL)
            self.assertTrue(verdict.authenticated, verdict.reason)
        # ... and another address of that domain is not the provider's, however well it is proven.
        other = signed(from_header(zayo, b"<other@freemail.example>"), "freemail.example")
        verdict = self.check(other, ZAYO_AND_ONE_FREEMAIL)
        self.assertFalse(verdict.authenticated)
        self.assertIn("other@freemail.example is not an address the provider claims", verdict.reason)
        # An exact address claims only itself: mr@zayo.com is nobody's with only noc@zayo.com claimed.
        verdict = self.check(signed(zayo), {"noc@zayo.com"})
        self.assertFalse(verdict.authenticated)
        self.assertIn("mr@zayo.com is not an address the provider claims", verdict.reason)
        self.assertTrue(self.check(signed(zayo), {"mr@zayo.com"}).authenticated)

    def test_a_display_name_is_not_the_sender(self):
        proof = "mx.noc.example; dkim=pass header.d=evil.example; dmarc=pass header.from=evil.example"
        for written in (
            b"=?utf-8?q?mr=40zayo=2Ecom?= <attacker@evil.example>",
            b'"mr@zayo.com" <attacker@evil.example>',
            b"attacker@evil.example (mr@zayo.com)",
        ):
            forged = with_results(signed(from_header(MESSAGES["zayo4"], written), "evil.example"), proof)
            verdict = self.check(forged, ZAYO | {"@evil.example"})
            self.assertTrue(verdict.authenticated, "attacker@evil.example is evil.example's")
            verdict = self.check(forged)
            self.assertFalse(verdict.authenticated, written)
            self.assertIn("attacker@evil.example is not an address the provider claims", verdict.reason)
        # A display name that is itself an address, unquoted, makes the header name no sender at all.
        forged = with_results(from_header(MESSAGES["zayo4"], b"mr@zayo.com <attacker@evil.example>"), proof)
        verdict = self.check(forged)
        self.assertFalse(verdict.authenticated)
        self.assertIn("From header names no single sender address", verdict.reason)

    def test_the_source_header_is_the_sender(self):
        policy = AuthPolicy(required=True, trusted_authserv_ids=("mx.noc.example",), sender_header="X-Original-Sender")
        relayed = with_results(
            from_header(without(MESSAGES["zayo4"], b"X-Original-Sender"), b"NOC list <noc-list@corp.example>"),
            "mx.noc.example; dkim=pass header.d=zayo.com",
        )
        verdict = self.check(b"X-Original-Sender: mr@zayo.com\r\n" + relayed, policy=policy)
        self.assertTrue(verdict.authenticated, verdict.reason)
        for header in (
            b"X-Original-Sender: =?utf-8?q?mr=40zayo=2Ecom?= <attacker@evil.example>\r\n",
            b"X-Original-Sender: mr@zayo.com\r\nX-Original-Sender: attacker@evil.example\r\n",
            b"",
        ):
            verdict = self.check(header + relayed, policy=policy)
            self.assertFalse(verdict.authenticated, header)


class DkimCoverageTestCase(SimpleTestCase):
    """A verifying DKIM signature counts only if it covers what the notice is read by, and all of the body."""

    def check(self, raw: bytes) -> auth.Verdict:
        return authenticate(raw, ZAYO, AuthPolicy(required=True), dnsfunc=dns)

    def test_an_extra_unsigned_header_is_refused(self):
        good = signed(MESSAGES["zayo4"])
        self.assertTrue(self.check(good).authenticated)
        for name in COVERED:
            verdict = self.check(prepended(good, name, b"[FORGED] cancelled"))
            self.assertFalse(verdict.authenticated, name)
            if name != b"From":  # a second From leaves no single sender before DKIM is even looked at
                self.assertIn(f"of the message's 2 {name.decode().lower()} header(s)", verdict.reason)
        # The parser breaks header lines at a lone CR, the DKIM verifier does not: such a Subject is counted too.
        hidden = good.replace(b"\r\nTo:", b"\r\nX-Note: a\rSubject: [FORGED] cancelled\r\nTo:", 1)
        self.assertNotEqual(hidden, good)
        self.assertFalse(self.check(hidden).authenticated)

    def test_a_signature_must_cover_date_and_message_id(self):
        for missing in (b"date", b"message-id", b"subject"):
            headers = [name for name in SIGNED_HEADERS if name != missing]
            verdict = self.check(signed(MESSAGES["zayo4"], headers=headers))
            self.assertFalse(verdict.authenticated, missing)
            self.assertIn(f"signs 0 of the message's 1 {missing.decode()} header(s)", verdict.reason)

    def test_oversigning_is_fine_and_blocks_additions(self):
        oversigned = signed(MESSAGES["zayo4"], headers=[*SIGNED_HEADERS, *SIGNED_HEADERS])
        self.assertTrue(self.check(oversigned).authenticated)
        verdict = self.check(prepended(oversigned, b"Subject", b"[FORGED] cancelled"))
        self.assertFalse(verdict.authenticated)
        self.assertIn("does not verify", verdict.reason)

    def test_a_body_length_is_refused(self):
        with_length = signed(MESSAGES["zayo4"], length=True)
        self.assertIn(b"l=", with_length.partition(b"\r\n\r\n")[0])
        self.assertTrue(dkim.verify(with_length, dnsfunc=dns), "dkimpy accepts it")
        self.assertTrue(dkim.verify(with_length + b"\r\nCANCELLED: the maintenance is off.\r\n", dnsfunc=dns))
        for raw in (with_length, with_length + b"\r\nCANCELLED: the maintenance is off.\r\n"):
            verdict = self.check(raw)
            self.assertFalse(verdict.authenticated)
            self.assertIn("body length (l=)", verdict.reason)

    @settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(
        oversign=st.booleans(),
        where=st.sampled_from(("prepend", "append", "body")),
        name=st.sampled_from(COVERED),
        value=st.one_of(
            st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60),
            st.sampled_from(("", "MR Zayo <mr@zayo.com>", "[EXTERNAL] cancelled", "Mon, 1 Jan 8998 00:00:00 +0000")),
        ),
        content=st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=80).filter(str.strip),
    )
    def test_adding_to_a_signed_message_unauthenticates_it(self, oversign, where, name, value, content):
        """Any From/Subject/Date/Message-ID added above or below, or any content appended to the body, is refused,
        signed by DKIM or sealed by a trusted ARC sealer."""
        for raw, policy in self.genuine(oversign):
            self.assertTrue(authenticate(raw, ZAYO, policy, dnsfunc=dns).authenticated)
            if where == "prepend":
                altered = prepended(raw, name, value.encode())
            elif where == "append":
                altered = appended(raw, name, value.encode())
            else:
                altered = raw + content.encode() + b"\r\n"
            verdict = authenticate(altered, ZAYO, policy, dnsfunc=dns)
            self.assertFalse(verdict.authenticated, (where, name, value, content, verdict.reason))

    @staticmethod
    def genuine(oversign: bool) -> list[tuple[bytes, AuthPolicy]]:
        headers = [*SIGNED_HEADERS, *SIGNED_HEADERS] if oversign else SIGNED_HEADERS
        return [
            (signed(bare(MESSAGES["zayo4"]), headers=headers), AuthPolicy(required=True)),
            (
                sealed(bare(MESSAGES["zayo4"]), "lists.example", "dkim=pass header.d=zayo.com"),
                AuthPolicy(required=True, dkim=False, trusted_arc_sealers=("lists.example",)),
            ),
        ]


def list_relayed(raw: bytes) -> bytes:
    """Zayo's signed notice as a mailing list passes it on: subject tagged, footer added (Zayo's signature breaks),
    its own Authentication-Results recorded, then sealed by lists.example."""
    signed_by_zayo = signed(bare(raw))
    changed = signed_by_zayo.replace(b"\r\nSubject: ", b"\r\nSubject: [noc] ", 1) + b"\r\n-- \r\nnoc list footer\r\n"
    return sealed(changed, "lists.example", "dkim=pass header.d=zayo.com; dmarc=pass header.from=zayo.com")


class ArcTestCase(SimpleTestCase):
    """ARC: list-relayed and forwarded mail, authenticated through the seals of sealers the operator trusts."""

    def check(self, raw: bytes, *sealers: str, claimed: set[str] = ZAYO) -> auth.Verdict:
        policy = AuthPolicy(required=True, trusted_arc_sealers=sealers)
        return authenticate(raw, claimed, policy, dnsfunc=dns)

    def test_a_trusted_sealer_authenticates_relayed_mail(self):
        relayed = list_relayed(MESSAGES["zayo4"])
        cv, _, comment = dkim.arc_verify(relayed, dnsfunc=dns)
        self.assertEqual(cv, dkim.CV_Pass, comment)
        verdict = self.check(relayed, "lists.example")
        self.assertTrue(verdict.authenticated, verdict.reason)
        self.assertIn("ARC-Authentication-Results of lists.example, i=1", verdict.reason)
        # Not trusted: the seal proves nothing, and Zayo's own signature broke on the way.
        verdict = self.check(relayed)
        self.assertFalse(verdict.authenticated)
        self.assertIn("does not verify", verdict.reason)
        verdict = self.check(relayed, "other.example")
        self.assertFalse(verdict.authenticated)
        self.assertIn("newest sealer lists.example is not trusted", verdict.reason)

    def test_forged_and_misaligned_seals_are_refused(self):
        base = bare(MESSAGES["zayo4"])
        # Sealed in lists.example's name with a key that is not lists.example's.
        forged = sealed(base, "lists.example", "dkim=pass header.d=zayo.com", key_domain="attacker.example")
        verdict = self.check(forged, "lists.example")
        self.assertFalse(verdict.authenticated)
        self.assertIn("ARC chain does not validate", verdict.reason)
        # A trusted sealer that saw a pass for another domain.
        other = sealed(base, "lists.example", "dkim=pass header.d=freemail.example")
        verdict = self.check(other, "lists.example")
        self.assertFalse(verdict.authenticated)
        self.assertIn("not aligned with zayo.com", verdict.reason)
        # A trusted sealer that saw a fail.
        self.assertFalse(
            self.check(sealed(base, "lists.example", "dkim=fail header.d=zayo.com"), "lists.example").authenticated
        )
        # The trusted sealer's results are for the From it sealed: a display name is still not the sender.
        display = from_header(base, b"=?utf-8?q?mr=40zayo=2Ecom?= <attacker@evil.example>")
        verdict = self.check(sealed(display, "lists.example", "dkim=pass header.d=zayo.com"), "lists.example")
        self.assertFalse(verdict.authenticated)

    def test_replays_onto_a_sealed_message_are_refused(self):
        relayed = list_relayed(MESSAGES["zayo4"])
        verdict = self.check(prepended(relayed, b"Subject", b"[FORGED] cancelled"), "lists.example")
        self.assertFalse(verdict.authenticated)
        self.assertIn("newest ARC-Message-Signature validates but does not count", verdict.reason)
        verdict = self.check(relayed + b"CANCELLED\r\n", "lists.example")
        self.assertFalse(verdict.authenticated)
        self.assertIn("ARC chain does not validate", verdict.reason)

    def test_a_chain_counts_down_to_the_first_untrusted_sealer(self):
        relayed = list_relayed(MESSAGES["zayo4"])
        # A forwarder then seals what it got: the list's chain valid, Zayo's signature broken.
        forwarded = sealed(relayed, "fwd.example", "arc=pass; dkim=fail header.d=zayo.com")
        self.assertEqual(dkim.arc_verify(forwarded, dnsfunc=dns)[0], dkim.CV_Pass)
        # The forwarder alone vouches only for what it saw (a fail); with the list trusted too, the list's pass counts.
        self.assertFalse(self.check(forwarded, "fwd.example").authenticated)
        self.assertFalse(self.check(forwarded, "lists.example").authenticated)
        verdict = self.check(forwarded, "fwd.example", "lists.example")
        self.assertTrue(verdict.authenticated, verdict.reason)
        self.assertIn("lists.example, i=1", verdict.reason)
        # A forwarder that saw Zayo's signature intact is enough on its own.
        direct = sealed(
            sealed(signed(bare(MESSAGES["zayo4"])), "lists.example", "dkim=pass header.d=zayo.com"),
            "fwd.example",
            "arc=pass; dkim=pass header.d=zayo.com",
        )
        verdict = self.check(direct, "fwd.example")
        self.assertTrue(verdict.authenticated, verdict.reason)

    def test_policy_and_configuration(self):
        app = {"sender_authentication": {"trusted_arc_sealers": ["Lists.Example."]}}
        source = SourceSettings(
            name="s",
            url="file:///x",
            source_header="X-Original-Sender",
            extra={"authentication": {"require": True, "trusted_arc_sealers": ["google.com"]}},
        )
        policy = policy_for(app, source, "Zayo")
        self.assertEqual(policy.trusted_arc_sealers, ("google.com", "lists.example"))
        self.assertEqual(policy.sender_header, "X-Original-Sender")
        self.assertEqual(policy_for({}, SourceSettings(name="t", url="file:///x"), None).sender_header, "From")
        validate_config({"sender_authentication": {"trusted_arc_sealers": ["google.com"]}})
        validate_config(
            {"notification_sources": [{"name": "a", "url": "file:///x", "authentication": {"trusted_arc_sealers": []}}]}
        )
        for bad in (["com"], "google.com", ["google .com"], [""]):
            with self.assertRaises(ConfigurationError, msg=bad):
                validate_config({"sender_authentication": {"trusted_arc_sealers": bad}})


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

    def test_assigning_one_address_trusts_that_address_only(self):
        """Issue 18: triage's "assign sender" for one address once made its whole domain Zayo's for authentication."""
        self.folder.add(bare(from_header(MESSAGES["zayo5"], b"MR <mr@freemail.example>")), "freemail-first")
        source = self.source(trusted_authserv_ids=["mx.noc.example"])
        with self.configured([source]):
            result, _ = self.run_sync()
        self.assertEqual(result.status, "SUCCESS", self.job_log(result))
        first = RawNotification.objects.get()
        self.assertEqual(first.outcome, OutcomeChoices.UNKNOWN_PROVIDER)
        zayo = self.providers["zayo"]
        with self.configured([source]):
            self.assertEqual(actions.assign_sender(first, zayo, whole_domain=False), "mr@freemail.example")

        # From mr@zayo.com, proven only for freemail.example: refused.
        forged = signed(with_results(bare(MESSAGES["zayo4"]), FREEMAIL_RESULTS), "freemail.example")
        self.folder.add(forged, "forged")
        # From mr@freemail.example, signed by freemail.example: the assigned address, proven.
        genuine = signed(
            from_header(bare(MESSAGES["zayo4"]), b"MR <mr@freemail.example>") + b"\r\n", "freemail.example"
        )
        self.folder.add(genuine, "assigned")
        with self.configured([source]):
            result, _ = self.run_sync()
        self.assertEqual(result.status, "SUCCESS", self.job_log(result))
        outcomes = {raw.location.split("-", 1)[1]: raw for raw in RawNotification.objects.all()}
        self.assertEqual(outcomes["forged.eml"].outcome, OutcomeChoices.UNAUTHENTICATED)
        self.assertIn("sender mr@zayo.com not authenticated for zayo.com", outcomes["forged.eml"].error)
        self.assertEqual(outcomes["assigned.eml"].outcome, OutcomeChoices.PARSED, outcomes["assigned.eml"].error)
        self.assertEqual(outcomes["assigned.eml"].provider, zayo)
        self.assertFalse(outcomes["forged.eml"].parsed_notifications.exists())

    def test_list_relayed_mail_through_a_trusted_sealer(self):
        self.folder.add(list_relayed(MESSAGES["zayo4"]), "relayed")
        # A Date prepended to a genuinely relayed notice: the parser reads it, the seal does not cover it.
        replayed = prepended(list_relayed(MESSAGES["zayo5"]), b"Date", b"Mon, 1 Jan 2029 00:00:00 +0000")
        self.folder.add(replayed, "replayed")
        with self.configured([self.source(trusted_arc_sealers=["lists.example"])]):
            result, _ = self.run_sync()
        self.assertEqual(result.status, "SUCCESS", self.job_log(result))
        outcomes = {raw.location.split("-", 1)[1]: raw for raw in RawNotification.objects.all()}
        self.assertEqual(outcomes["relayed.eml"].outcome, OutcomeChoices.PARSED, outcomes["relayed.eml"].error)
        self.assertEqual(outcomes["replayed.eml"].outcome, OutcomeChoices.UNAUTHENTICATED)
        self.assertIn("ARC-Message-Signature validates but does not count", outcomes["replayed.eml"].error)
        self.assertEqual(CircuitMaintenance.objects.filter(provider=self.providers["zayo"]).count(), 1)
