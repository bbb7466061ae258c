"""Sender authentication: may this notice create or change a maintenance?

Anyone can write `From: noc@provider.example`. Where the operator asks for it (per source, per
provider; see `policy_for`), a notice counts only when one of these holds:

- a DKIM signature on it verifies (dkimpy) and was made by one of the provider's domains (the
  domains of its `emails_circuit_maintenances` addresses, or a parent or child domain of one);
- an `Authentication-Results` header written by a mail server the operator trusts (its authserv-id
  is listed) shows `pass` for one of the accepted methods (dkim, spf, dmarc), for one of those
  domains (parsed with authres).

Otherwise the source's policy for unauthenticated notices (`authentication.unauthenticated`) decides:
`refuse` (the default where `require` is set) stores it with the outcome `unauthenticated` and drops its
maintenances, so it changes nothing; `confirm` lets it count unless it would cancel, complete, move or
take circuits off a maintenance, which then waits for a person (pipeline/history.py); `apply` lets it
count. Under `confirm` and `apply` its sequence number is never believed above what was seen before it
(fold.py), and the verdict is stored (`RawNotification.sender_authenticated`).

The check runs in the parent process right after parsing, on the message as
fetched (whole, not the stored prefix), because DKIM needs the whole body and a DNS lookup.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import Any

import authres
import dkim

from ..choices import OutcomeChoices, SourcePolicyChoices
from ..providers import split_addresses

METHODS = ("dkim", "spf", "dmarc")
# At most this many signatures / headers are looked at (a message may carry hundreds).
MAX_SIGNATURES = 5
MAX_RESULTS_HEADERS = 20
HEADER_BLOCK_LIMIT = 256 * 1024
# A TXT lookup: (name, timeout=...) -> bytes | None, as dkimpy's `dnsfunc`. None: dkimpy's own resolver.
DnsFunc = Callable[..., Any]
DNS_FUNC: DnsFunc | None = None


@dataclass(frozen=True)
class AuthPolicy:
    """What a notice must show; `required` False means anything goes."""

    required: bool = False
    # What an unauthenticated notice does: SourcePolicyChoices (refuse, confirm, apply).
    action: str = SourcePolicyChoices.REFUSE
    dkim: bool = True
    trusted_authserv_ids: tuple[str, ...] = ()
    methods: tuple[str, ...] = METHODS


@dataclass(frozen=True)
class Verdict:
    authenticated: bool
    reason: str


def policy_for(app_settings: dict[str, Any], source_settings: Any, provider_name: str | None) -> AuthPolicy:
    """The policy for mail of `provider_name` read by a source.

    Checked when the source's `authentication.require` is true or its `authentication.unauthenticated`
    is set, or the provider is listed in the app's `sender_authentication.providers`. An unauthenticated
    notice is refused unless `unauthenticated` says `confirm` or `apply`. Trusted authserv-ids add up (app
    and source); `dkim` and `methods` of the source win over the app's.
    """
    app = app_settings.get("sender_authentication") or {}
    source = (getattr(source_settings, "extra", None) or {}).get("authentication") or {}
    listed = {name.lower() for name in app.get("providers", [])}
    action = source.get("unauthenticated") or SourcePolicyChoices.REFUSE
    required = (
        bool(source.get("require", False)) or "unauthenticated" in source or (provider_name or "").lower() in listed
    )
    return AuthPolicy(
        required=required,
        action=action,
        dkim=bool(source.get("dkim", app.get("dkim", True))),
        trusted_authserv_ids=tuple(
            sorted({i.lower() for i in [*app.get("trusted_authserv_ids", []), *source.get("trusted_authserv_ids", [])]})
        ),
        methods=tuple(source.get("methods", app.get("methods", METHODS))),
    )


def provider_domains(emails_field: str | None) -> set[str]:
    """The domains of a provider's `emails_circuit_maintenances` entries (`a@x.net`, `@x.net` → x.net)."""
    return {entry.rpartition("@")[2] for entry in split_addresses(emails_field) if "." in entry.rpartition("@")[2]}


def _aligned(domain: str, domains: Iterable[str]) -> bool:
    """`domain` is one of `domains`, or a parent or child of one (never a bare top-level domain)."""
    domain = domain.strip().strip(".").lower()
    if "." not in domain:
        return False
    return any(domain == d or domain.endswith("." + d) or d.endswith("." + domain) for d in domains)


def _dkim_domains(raw: bytes, dnsfunc: DnsFunc | None) -> tuple[list[str], list[str]]:
    """The domains of the signatures that verify, and why the others did not."""
    count = min(len(re.findall(rb"(?im)^dkim-signature\s*:", raw[:HEADER_BLOCK_LIMIT])), MAX_SIGNATURES)
    good, problems = [], []
    for index in range(count):
        checker = dkim.DKIM(raw, minkey=1024, timeout=5)
        try:
            kwargs = {"dnsfunc": dnsfunc} if dnsfunc is not None else {}
            ok = checker.verify(idx=index, **kwargs)
        except Exception as error:  # noqa: BLE001 - dkimpy raises for malformed signatures, keys, DNS
            problems.append(f"DKIM signature {index + 1}: {type(error).__name__}")
            continue
        domain = (checker.domain or b"").decode("ascii", "replace")
        if ok:
            good.append(domain)
        else:
            problems.append(f"DKIM signature {index + 1} (d={domain}) does not verify")
    return good, problems


def _results(raw: bytes, trusted: tuple[str, ...], methods: tuple[str, ...]) -> list[tuple[str, str]]:
    """(method, domain) of every `pass` in Authentication-Results headers from a trusted authserv-id."""
    head = raw[:HEADER_BLOCK_LIMIT].replace(b"\r\n", b"\n").partition(b"\n\n")[0]
    headers = BytesHeaderParser(policy=compat32).parsebytes(head)
    passes = []
    for value in (headers.get_all("Authentication-Results") or [])[:MAX_RESULTS_HEADERS]:
        try:
            parsed = authres.AuthenticationResultsHeader.parse(
                f"Authentication-Results: {' '.join(str(value).split())}"
            )
        except Exception:  # noqa: BLE001, S112 - an unreadable header proves nothing
            continue
        if (parsed.authserv_id or "").lower() not in trusted:
            continue
        for result in parsed.results:
            method = (result.method or "").lower()
            if method not in methods or (result.result or "").lower() != "pass":
                continue
            for prop in result.properties:
                value = str(prop.value or "")
                if (prop.type, prop.name) in (("header", "d"), ("header", "from"), ("smtp", "mailfrom")):
                    passes.append((method, value.rpartition("@")[2]))
    return passes


def authenticate(raw: bytes, domains: set[str], policy: AuthPolicy, *, dnsfunc: DnsFunc | None = None) -> Verdict:
    """Whether `raw` proves it comes from one of `domains` under `policy`; never raises."""
    if not policy.required:
        return Verdict(True, "not required")
    if not domains:
        return Verdict(False, "the provider has no sender domain to authenticate against")
    problems: list[str] = []
    try:
        for method, domain in _results(raw, policy.trusted_authserv_ids, policy.methods):
            if _aligned(domain, domains):
                return Verdict(True, f"{method}=pass for {domain} (trusted Authentication-Results)")
        if policy.dkim:
            good, problems = _dkim_domains(raw, dnsfunc or DNS_FUNC)
            for domain in good:
                if _aligned(domain, domains):
                    return Verdict(True, f"DKIM signature of {domain} verifies")
            problems += [f"DKIM signature of {domain} verifies but is not the provider's domain" for domain in good]
    except Exception as error:  # noqa: BLE001 - whatever the mail holds, an unproven notice is refused
        problems.append(f"unreadable ({type(error).__name__})")
    detail = "; ".join(problems) or "no DKIM signature and no trusted Authentication-Results"
    return Verdict(False, f"sender not authenticated for {', '.join(sorted(domains))}: {detail}"[:2000])


def refuse_unauthenticated(
    fetched: list[Any],
    parsed: list[Any],
    *,
    policy: Callable[[Any], AuthPolicy],
    domains: Callable[[Any], set[str]],
) -> None:
    """Check, in place, the senders of the parsed messages with maintenances, and apply each policy's action.

    `fetched` and `parsed` are the same messages in the same order (the pool's contract);
    `policy(provider)` and `domains(provider)` answer for a ProviderEntry. A refused message gets the
    outcome unauthenticated and loses its maintenances; under `confirm` it is marked to wait for a person
    where its change matters (history.py); every checked message records its verdict.
    """
    for source_message, message in zip(fetched, parsed, strict=True):
        if message.provider is None or not message.maintenances:
            continue
        rule = policy(message.provider)
        if not rule.required:
            continue
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
