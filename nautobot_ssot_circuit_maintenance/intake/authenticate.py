"""Sender authentication: may this notice create or change a maintenance?

Anyone can write `From: noc@provider.example`. Where the operator asks for it (per source, per
provider; see `policy_for`), a notice counts only when its sender address — the one address of its
From header (or the source's `source_header`), read as written, never a display name — is one the
provider claims (the exact address, or under one of its `@domain` entries), and one of these holds
for a domain *aligned* with that address's domain (the same domain, or a parent or child of it,
never a bare top-level domain):

- a DKIM signature on it verifies (dkimpy), is made by that domain, signs every From, Subject, Date
  and Message-ID header the message has (so no unsigned extra one can be read in place of a signed
  one), and has no body length (`l=`: content could be appended past it);
- an `Authentication-Results` header written by a mail server the operator trusts (its authserv-id
  is listed) shows `pass` for one of the accepted methods (dkim, spf, dmarc) for that domain;
- an ARC chain validates (dkimpy) and its newest seals are made by sealers the operator trusts:
  their `ARC-Authentication-Results` then count like a trusted `Authentication-Results`. The newest
  ARC-Message-Signature must cover the message as a DKIM signature must (above).

Otherwise the source's policy for unauthenticated notices (`authentication.unauthenticated`) decides:
`refuse` (the default where `require` is set) stores it with the outcome `unauthenticated` and drops its
maintenances, so it changes nothing; `confirm` lets it count unless it would cancel, complete, move or
take circuits off a maintenance, which then waits for a person (intake/history.py); `apply` lets it
count. Under `confirm` and `apply` its sequence number is never believed above what was seen before it
(intake/fold.py), and the verdict is stored (`RawNotification.sender_authenticated`).

A notice forwarded by one of the source's `forwarders` (mail/forwards.py) is checked the same way, on the
forward: its sender must be a forwarder the source lists, and the forward's own DKIM, trusted
Authentication-Results or ARC must vouch for the forwarder's domain; the notice's own signatures, which
forwarding breaks, are not asked for. An unauthenticated forward meets the same policy.

The check runs in the parent process right after parsing, on the message as
fetched (whole, not the stored prefix), because DKIM needs the whole body and a DNS lookup.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import authres
import dkim
from dkim.util import parse_tag_value

from nautobot_ssot_circuit_maintenance.choices import OutcomeChoices, SourcePolicyChoices
from nautobot_ssot_circuit_maintenance.intake.sources import source_kind
from nautobot_ssot_circuit_maintenance.mail.headers import header_block, message_sender
from nautobot_ssot_circuit_maintenance.providers import claims

METHODS = ("dkim", "spf", "dmarc")
# A signature counts only if it signs every instance of these headers (they are what the notice is read by).
COVERED_HEADERS = ("from", "subject", "date", "message-id")
# At most this many signatures / headers / ARC sets are looked at (a message may carry hundreds).
MAX_SIGNATURES = 5
MAX_RESULTS_HEADERS = 20
MAX_ARC_SETS = 10
# A TXT lookup: (name, timeout=...) -> bytes | None, as dkimpy's `dnsfunc`. None: dkimpy's own resolver.
DnsFunc = Callable[..., Any]
DNS_FUNC: DnsFunc | None = None
# A pass in an (ARC-)Authentication-Results result: the property that names the domain it is for. Gmail reports
# a DKIM pass by the signature's identity (`header.i=@zayo.com`), whose domain is d= or a sub-domain of it.
RESULT_DOMAINS = (("header", "d"), ("header", "i"), ("header", "from"), ("smtp", "mailfrom"))
# The mailbox services whose verdict on each message they received we trust, for the sources that read through
# their API: the authserv-id of the topmost Authentication-Results header they stamp. Exchange Online writes its
# header without an authserv-id; it is read under this name. Authentication is on for these sources by default.
SERVICE_VERDICTS = {"gmail": "mx.google.com", "graph": "exchange-online"}
# The services whose header has no authserv-id (Google always names itself: an id-less header in Gmail is not its).
IDLESS_SERVICES = ("exchange-online",)


@dataclass(frozen=True)
class AuthPolicy:
    """What a notice must show; `required` False means anything goes."""

    required: bool = False
    # What an unauthenticated notice does: SourcePolicyChoices (refuse, confirm, apply).
    action: str = SourcePolicyChoices.REFUSE
    dkim: bool = True
    trusted_authserv_ids: tuple[str, ...] = ()
    methods: tuple[str, ...] = METHODS
    # ARC sealers (their d= domains) whose ARC-Authentication-Results count.
    trusted_arc_sealers: tuple[str, ...] = ()
    # The header whose one address is the sender (the source's `source_header`): what is authenticated.
    sender_header: str = "From"
    # The authserv-id of the mailbox service's own verdict (SERVICE_VERDICTS): only the topmost header counts.
    service_verdict: str = ""
    # The source's `forwarders`: a forwarded notice is believed as far as its forwarder proves who it is.
    forwarders: tuple[str, ...] = ()


@dataclass(frozen=True)
class Verdict:
    """Whether a message's sender is authenticated, and why (or why not)."""

    authenticated: bool
    reason: str


def _domains(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({value.strip().strip(".").lower() for value in values if value.strip().strip(".")}))


def policy_for(app_settings: dict[str, Any], source_settings: Any, provider_name: str | None) -> AuthPolicy:
    """The policy for mail of `provider_name` read by a source.

    Checked when the source's `authentication.require` is true or its `authentication.unauthenticated`
    is set, or the provider is listed in the app's `sender_authentication.providers`. An unauthenticated
    notice is refused unless `unauthenticated` says `confirm` or `apply`. Trusted authserv-ids add up (app
    and source), and so do trusted ARC sealers; `dkim` and `methods` of the source win over the app's. The
    sender is read from the source's `source_header`.
    """
    app = app_settings.get("sender_authentication") or {}
    configured = getattr(source_settings, "extra", None) or {}
    source = configured.get("authentication") or {}
    listed = {name.lower() for name in app.get("providers", [])}
    service = SERVICE_VERDICTS.get(source_kind(getattr(source_settings, "url", "") or ""), "")
    # A Gmail or Microsoft 365 source with no `authentication` of its own relies on the service's verdict, and a
    # notice it does not vouch for waits for a person where it would take something away (docs/authentication.md).
    by_default = bool(service) and "authentication" not in configured
    action = source.get("unauthenticated") or (
        SourcePolicyChoices.CONFIRM if by_default else SourcePolicyChoices.REFUSE
    )
    required = (
        by_default
        or bool(source.get("require", False))
        or "unauthenticated" in source
        or (provider_name or "").lower() in listed
    )
    return AuthPolicy(
        required=required,
        action=action,
        # The service verified the signatures already (and a worker may have no DNS): by default its word is taken.
        dkim=bool(source.get("dkim", app.get("dkim", not by_default))),
        trusted_authserv_ids=tuple(
            sorted({i.lower() for i in [*app.get("trusted_authserv_ids", []), *source.get("trusted_authserv_ids", [])]})
        ),
        methods=tuple(source.get("methods", app.get("methods", METHODS))),
        trusted_arc_sealers=_domains([*app.get("trusted_arc_sealers", []), *source.get("trusted_arc_sealers", [])]),
        sender_header=getattr(source_settings, "source_header", None) or "From",
        service_verdict=service,
        forwarders=tuple(getattr(source_settings, "forwarders", ()) or ()),
    )


def aligned(domain: str, sender_domain: str) -> bool:
    """DMARC-style relaxed alignment: `domain` is the sender's domain, or a parent or child of it.

    Neither may be a bare top-level domain (`com` aligns with nothing).
    """
    domain = domain.strip().strip(".").lower()
    sender_domain = sender_domain.strip().strip(".").lower()
    if "." not in domain or "." not in sender_domain:
        return False
    return domain == sender_domain or domain.endswith("." + sender_domain) or sender_domain.endswith("." + domain)


def header_counts(raw: bytes, headers: list[tuple[bytes, bytes]]) -> Counter:
    """How many times each header occurs, as the DKIM verifier or the parser counts it, whichever is more.

    The DKIM verifier splits the header block (`headers`); the parser is Python's `email`, which also breaks lines
    at a lone CR and other separators.
    """
    counts = Counter(name.strip().lower().decode("ascii", "replace") for name, _ in headers)
    parsed = Counter(name.strip().lower() for name, _ in header_block(raw).raw_items())
    return counts | parsed


def coverage_gap(tags: dict[bytes, bytes], counts: Counter) -> str:
    """Why a signature that verifies still does not vouch for the message as it is read ("" when it does).

    `tags` are a DKIM-Signature's or ARC-Message-Signature's tags; `counts` the message's `header_counts`.
    """
    if b"l" in tags:
        return "it has a body length (l=), so content appended after what it signs would pass"
    signed = Counter(
        name.strip().lower().decode("ascii", "replace") for name in re.split(rb"\s*:\s*", tags.get(b"h", b"").strip())
    )
    for name in COVERED_HEADERS:
        if signed[name] < counts[name]:
            return (
                f"it signs {signed[name]} of the message's {counts[name]} {name} header(s), "
                "so an unsigned one can be read in place of a signed one"
            )
    return ""


def _passes(value: str, methods: tuple[str, ...]) -> tuple[str, list[tuple[str, str]]]:
    """(authserv-id, [(method, domain)] of every `pass`) of an Authentication-Results value; raises if unreadable."""
    parsed = authres.AuthenticationResultsHeader.parse(f"Authentication-Results: {' '.join(value.split())}")
    passes = []
    for result in parsed.results:
        method = (result.method or "").lower()
        if method not in methods or (result.result or "").lower() != "pass":
            continue
        for prop in result.properties:
            if (prop.type, prop.name) in RESULT_DOMAINS:
                passes.append((method, str(prop.value or "").rpartition("@")[2]))
    return (parsed.authserv_id or "").lower(), passes


def _results(
    raw: bytes, trusted: tuple[str, ...], methods: tuple[str, ...], service: str = ""
) -> list[tuple[str, str]]:
    """(method, domain) of every `pass` in Authentication-Results headers from a trusted authserv-id.

    The mailbox service's own verdict (`service`) counts only in the topmost header, the one it added on
    receipt: a sender may write one further down.
    """
    passes = []
    for index, value in enumerate((header_block(raw).get_all("Authentication-Results") or [])[:MAX_RESULTS_HEADERS]):
        text = str(value)
        if index == 0 and service in IDLESS_SERVICES and "=" in text.split(";", 1)[0]:
            text = f"{service}; {text}"  # Exchange Online's header has no authserv-id
        try:
            authserv_id, found = _passes(text, methods)
        except Exception:  # noqa: BLE001, S112 - an unreadable header proves nothing
            continue
        if (authserv_id == service and index == 0) or (authserv_id in trusted and authserv_id != service):
            passes.extend(found)
    return passes


def _dkim_domains(
    raw: bytes, headers: list[tuple[bytes, bytes]], counts: Counter, dnsfunc: DnsFunc | None
) -> tuple[list[str], list[str]]:
    """The domains of the signatures that verify and cover the message, and why the others do not count."""
    count = min(sum(1 for name, _ in headers if name.strip().lower() == b"dkim-signature"), MAX_SIGNATURES)
    good, problems = [], []
    for index in range(count):
        checker = dkim.DKIM(raw, minkey=1024, timeout=5)
        try:
            kwargs = {"dnsfunc": dnsfunc} if dnsfunc is not None else {}
            ok = checker.verify(idx=index, **kwargs)
        except Exception as error:  # noqa: BLE001 - dkimpy raises for malformed signatures, keys, DNS
            detail = f" ({' '.join(str(error).split())[:160]})" if isinstance(error, dkim.DKIMException) else ""
            problems.append(f"DKIM signature {index + 1} does not verify: {type(error).__name__}{detail}")
            continue
        domain = (checker.domain or b"").decode("ascii", "replace")
        if not ok:
            problems.append(f"DKIM signature {index + 1} (d={domain}) does not verify")
        elif gap := coverage_gap(checker.signature_fields or {}, counts):
            problems.append(f"DKIM signature {index + 1} (d={domain}) verifies but does not count: {gap}")
        else:
            good.append(domain)
    return good, problems


def _aar_value(value: bytes) -> str:
    """An ARC-Authentication-Results value without its `i=` tag: an Authentication-Results value."""
    return re.sub(r"^\s*i\s*=\s*\d+\s*;", "", value.decode("utf-8", "replace"), count=1)


def _arc_passes(
    raw: bytes, headers: list[tuple[bytes, bytes]], counts: Counter, policy: AuthPolicy, dnsfunc: DnsFunc | None
) -> tuple[list[tuple[str, str, str]], list[str]]:
    """(method, domain, sealer) of every `pass` in ARC-Authentication-Results that count, and why others do not.

    They count when the chain validates (cv=pass), its newest ARC-Message-Signature covers the message, and
    every seal from the newest down to theirs is made by a trusted sealer: each of those sealers vouches for
    what the ones before it recorded.
    """
    seals = sum(1 for name, _ in headers if name.strip().lower() == b"arc-seal")
    if not policy.trusted_arc_sealers or not seals:
        return [], []
    if seals > MAX_ARC_SETS:
        return [], [f"an ARC chain of {seals} sets (more than {MAX_ARC_SETS}) is not verified"]
    kwargs = {"dnsfunc": dnsfunc} if dnsfunc is not None else {}
    verdict, instances, comment = dkim.arc_verify(raw, minkey=1024, **kwargs)
    if verdict != dkim.CV_Pass or not instances:
        return [], [f"the ARC chain does not validate ({comment})"]
    newest = instances[0]  # dkimpy lists the sets newest first
    signatures = [
        parse_tag_value(value)
        for name, value in headers
        if name.strip().lower() == b"arc-message-signature"
        and re.search(rb"(^|[;\s])i\s*=\s*%d\s*(;|$)" % newest["instance"], value)
    ]
    if len(signatures) != 1:
        return [], ["the newest ARC set has no single ARC-Message-Signature"]
    if gap := coverage_gap(signatures[0], counts):
        return [], [f"the newest ARC-Message-Signature validates but does not count: {gap}"]
    passes, problems = [], []
    for instance in instances:
        sealer = instance["as-domain"].decode("ascii", "replace").strip(".").lower()
        if sealer not in policy.trusted_arc_sealers:
            if instance is newest:
                problems.append(f"the ARC chain validates but its newest sealer {sealer} is not trusted")
            break
        try:
            _, found = _passes(_aar_value(instance["aar-value"]), policy.methods)
        except Exception:  # noqa: BLE001, S112 - an unreadable ARC-Authentication-Results proves nothing
            continue
        passes.extend((method, domain, f"{sealer}, i={instance['instance']}") for method, domain in found)
    return passes, problems


def authenticate(raw: bytes, claimed: set[str], policy: AuthPolicy, *, dnsfunc: DnsFunc | None = None) -> Verdict:
    """Whether `raw` proves it comes from its sender address, one the provider claims, under `policy`.

    `claimed` holds the provider's `emails_circuit_maintenances` entries (`noc@x.net`, `@x.net`): an exact
    address claims only itself. Never raises.
    """
    if not policy.required:
        return Verdict(True, "not required")
    if not claimed:
        return Verdict(False, "the provider claims no sender address to authenticate against")
    sender = message_sender(raw, policy.sender_header)
    if not sender:
        return Verdict(False, f"the {policy.sender_header} header names no single sender address to authenticate")
    if not claims(claimed, sender):
        return Verdict(False, f"the sender {sender} is not an address the provider claims")
    domain = sender.rpartition("@")[2]
    problems: list[str] = []
    try:
        for method, passed in _results(raw, policy.trusted_authserv_ids, policy.methods, policy.service_verdict):
            if aligned(passed, domain):
                return Verdict(True, f"{method}=pass for {passed} (trusted Authentication-Results)")
        headers = dkim.rfc822_parse(raw)[0]
        counts = header_counts(raw, headers)
        arc_passes, problems = _arc_passes(raw, headers, counts, policy, dnsfunc or DNS_FUNC)
        if policy.service_verdict:
            problems.insert(
                0, f"the topmost Authentication-Results ({policy.service_verdict}) shows no pass for {domain}"
            )
        for method, passed, sealer in arc_passes:
            if aligned(passed, domain):
                return Verdict(True, f"{method}=pass for {passed} (ARC-Authentication-Results of {sealer})")
        problems += [
            f"ARC: {method}=pass for {passed} is not aligned with {domain}" for method, passed, _ in arc_passes
        ]
        if policy.dkim:
            good, dkim_problems = _dkim_domains(raw, headers, counts, dnsfunc or DNS_FUNC)
            problems += dkim_problems
            for signer in good:
                if aligned(signer, domain):
                    return Verdict(True, f"DKIM signature of {signer} verifies")
            problems += [f"DKIM signature of {signer} verifies but is not aligned with {domain}" for signer in good]
    except Exception as error:  # noqa: BLE001 - whatever the mail holds, an unproven notice is refused
        problems.append(f"unreadable ({type(error).__name__})")
    detail = "; ".join(problems) or "no DKIM signature and no trusted Authentication-Results"
    return Verdict(False, f"sender {sender} not authenticated for {domain}: {detail}"[:2000])


def refuse_unauthenticated(
    fetched: list[Any],
    parsed: list[Any],
    *,
    policy: Callable[[Any], AuthPolicy],
    domains: Callable[[Any], set[str]],
) -> None:
    """Check, in place, the senders of the parsed messages with maintenances, and apply each policy's action.

    `fetched` and `parsed` are the same messages in the same order (the pool's contract);
    `policy(provider)` and `domains(provider)` answer for a ProviderEntry: `domains` gives the entries the
    provider claims (`SenderDirectory.claims_of`: exact addresses and `@domain`s), not bare domains. A refused
    message gets the outcome unauthenticated and loses its maintenances; under `confirm` it is marked to wait
    for a person where its change matters (history.py); every checked message records its verdict.
    """
    for source_message, message in zip(fetched, parsed, strict=True):
        if message.provider is None or not message.maintenances:
            continue
        rule = policy(message.provider)
        if not rule.required:
            continue
        if message.forwarded_by:
            # The forwarder's own mail is what reached us: its authentication (DKIM, Authentication-Results, ARC)
            # is what is believed; the notice's signatures rarely survive forwarding and are not asked for.
            verdict = authenticate(source_message.raw, set(rule.forwarders), rule)
            if not verdict.authenticated:
                verdict = Verdict(False, f"forward: {verdict.reason}"[:2000])
        else:
            verdict = authenticate(source_message.raw, domains(message.provider), rule)
        message.sender_authenticated = verdict.authenticated
        if verdict.authenticated:
            continue
        message.error = verdict.reason
        if rule.action == SourcePolicyChoices.CONFIRM:
            message.confirm_changes = True
        elif rule.action != SourcePolicyChoices.APPLY:
            message.outcome = OutcomeChoices.UNAUTHENTICATED
            message.maintenances = []
