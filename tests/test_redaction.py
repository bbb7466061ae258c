"""redaction.py with drawn secrets and payloads: whatever surrounds a known secret, it does not survive.

tests/intake/sources/test_secrets.py checks chosen spellings and the sources' entry points; these draw the secret and
its surroundings with hypothesis and check the property itself (decoding what is left, for base64), in
text and in the HTML of the app's pages that show a source's error. The feed token's log filter too.
"""

from __future__ import annotations

import base64
import binascii
import html
import io
import json
import logging
import re
import shutil
import string
import tempfile
import unittest
from pathlib import Path
from urllib.parse import quote, quote_plus

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase
from nautobot.users.models import ObjectPermission

from nautobot_ssot_circuit_maintenance.config import SourceSettings
from nautobot_ssot_circuit_maintenance.intake.sources import MailboxSource, SourceError
from nautobot_ssot_circuit_maintenance.models import NotificationSource
from nautobot_ssot_circuit_maintenance.redaction import (
    FEED_PATH_LOGGERS,
    MASK,
    FeedTokenLogFilter,
    Scrubber,
    credential_file_secrets,
    encoded_forms,
    mask_feed_tokens,
    mask_url_credentials,
    scrub,
)

# Secrets as providers issue them: printable, no whitespace, long enough to be told from prose.
SECRETS = st.text(alphabet=string.ascii_letters + string.digits + "-._~+/=!$%&()@:;?", min_size=8, max_size=60)
# What a server wraps around an echo; "*" is left out so the mask cannot be mistaken for the text.
SURROUNDINGS = st.text(alphabet=st.characters(blacklist_characters="*", blacklist_categories=("Cs",)), max_size=40)
# Secrets with the characters that escape differently in HTML, URLs, JSON and Python reprs, and letters
# whose case changes their length or their bytes (ß → SS, İ → i̇, ﬁ → FI, é → É).
AWKWARD = "&<>\"'%/+=\\ éßİﬁΣ"
AWKWARD_SECRETS = st.text(
    alphabet=st.sampled_from(string.ascii_letters + string.digits + "-._~!$@:;?" + AWKWARD), min_size=8, max_size=40
)


def _percent_lower(text: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), text)


SPELLINGS = {
    "raw": lambda s: s,
    "url path": lambda s: quote(s, safe=""),
    "url": quote,
    "form": quote_plus,
    "url, lower-case hex": lambda s: _percent_lower(quote(s, safe="")),
    "json": lambda s: json.dumps(s)[1:-1],
    "json slashes": lambda s: json.dumps(s)[1:-1].replace("/", "\\/"),
    "json, not ascii": lambda s: json.dumps(s, ensure_ascii=False)[1:-1],
    "html": html.escape,
    "html, quotes as they are": lambda s: html.escape(s, quote=False),
    "html, old Django": lambda s: html.escape(s).replace("&#x27;", "&#39;"),
    "html, character references": lambda s: html.escape(s).encode("ascii", "xmlcharrefreplace").decode(),
    "html of json": lambda s: html.escape(json.dumps(s)[1:-1]),
    "hex": lambda s: s.encode().hex(),
    "HEX": lambda s: s.encode().hex().upper(),
    "hex, spaced": lambda s: s.encode().hex(" "),
    "hex, colons, upper": lambda s: s.encode().hex(":").upper(),
    "hex, \\x": lambda s: "".join(f"\\x{b:02x}" for b in s.encode()),
    "percent, every byte": lambda s: "".join(f"%{b:02X}" for b in s.encode()),
    "bytes repr": lambda s: repr(s.encode())[2:-1],
    "ascii repr": lambda s: ascii(s)[1:-1],
    "lower": str.lower,
    "UPPER": str.upper,
    "sWAPPED": str.swapcase,
    "casefolded": str.casefold,
    "upper, url": lambda s: quote(s.upper(), safe=""),
    "upper, html": lambda s: html.escape(s.upper()),
    "lower, html": lambda s: html.escape(s.lower()),
    "upper, hex": lambda s: s.upper().encode().hex(),
}
# Spellings so short or so plain they could be ordinary text are not looked for in the output.
MIN_CHECKED = 6


def surviving_spellings(secret: str, text: str, baseline: str = "") -> list[str]:
    """The spellings of `secret` (SPELLINGS) still found in `text`, case ignored; on a page, only those found
    more often than on the same page without the error (`baseline`), so the page's own text is not taken
    for an echo."""
    folded, base = text.casefold(), baseline.casefold()
    found = []
    for name, spell in SPELLINGS.items():
        form = spell(secret)
        if len(form) >= MIN_CHECKED and (
            text.count(form) > baseline.count(form) or folded.count(form.casefold()) > base.count(form.casefold())
        ):
            found.append(f"{name}: {form!r}")
    return found


def base64_runs(text: str) -> list[bytes]:
    """Every maximal base64 run of `text`, decoded at each of the four character alignments."""
    decoded = []
    for run in re.findall(r"[A-Za-z0-9+/\-_]+", text):
        run = run.translate(str.maketrans("-_", "+/"))
        for start in range(4):
            chunk = run[start:]
            chunk = chunk[: len(chunk) - len(chunk) % 4]
            try:
                decoded.append(base64.b64decode(chunk))
            except (binascii.Error, ValueError):
                continue
    return decoded


class DrawnSecretsTestCase(unittest.TestCase):
    @settings(max_examples=300, deadline=None)
    @given(SECRETS, SURROUNDINGS, SURROUNDINGS, st.sampled_from(sorted(SPELLINGS)))
    def test_a_secret_in_any_spelling_and_any_surroundings_is_removed(self, secret, before, after, spelling):
        form = SPELLINGS[spelling](secret)
        cleaned = Scrubber([secret])(f"{before}{form}{after}")
        self.assertNotIn(form, cleaned)
        self.assertNotIn(secret, cleaned)

    @settings(max_examples=300, deadline=None)
    @given(SECRETS, st.binary(max_size=40), st.binary(max_size=40), st.booleans())
    def test_a_secret_inside_a_base64_payload_cannot_be_decoded_back(self, secret, before, after, urlsafe):
        encode = base64.urlsafe_b64encode if urlsafe else base64.b64encode
        payload = encode(before + secret.encode() + after).decode()
        cleaned = Scrubber([secret])(f"echo {payload} end")
        for chunk in base64_runs(cleaned):
            self.assertNotIn(secret.encode(), chunk)

    @settings(max_examples=200, deadline=None)
    @given(SURROUNDINGS)
    def test_text_without_secrets_or_credentials_is_left_alone(self, text):
        text = text.replace("=", " ").replace(":", " ").replace("\\", " ")  # no field syntax, no URL
        self.assertEqual(Scrubber(["a-secret-never-in-the-text"])(text), text)

    def test_encoded_forms_of_nothing_is_nothing(self):
        self.assertEqual(encoded_forms(""), set())
        self.assertEqual(Scrubber([None, ""])("unchanged"), "unchanged")

    def test_a_scrubber_learns_secrets_later(self):
        scrubber = Scrubber(["first-secret-1"])
        self.assertEqual(scrubber("first-secret-1 issued-token-22"), f"{MASK} issued-token-22")
        scrubber.add("issued-token-22")
        self.assertEqual(scrubber("first-secret-1 issued-token-22"), f"{MASK} {MASK}")

    def test_the_longest_spelling_goes_first(self):
        # The URL-encoded form contains the raw prefix "abc": it must be masked whole, leaving no "%2F..." tail.
        secret = "abc/def+ghi"
        self.assertEqual(scrub(f"x {quote(secret, safe='')} y", [secret]), f"x {MASK} y")

    def test_url_credentials_keep_the_user_and_host(self):
        self.assertEqual(
            mask_url_credentials("https://u:p@h/x and ftp://a:b@c"), f"https://u:{MASK}@h/x and ftp://a:{MASK}@c"
        )
        self.assertEqual(mask_url_credentials("mailto:noc@example.net"), "mailto:noc@example.net")


class AwkwardSpellingsTestCase(unittest.TestCase):
    """HTML-escaped, hex, percent-encoded and case-changed echoes of secrets whose characters escape differently."""

    @settings(max_examples=400, deadline=None)
    @given(AWKWARD_SECRETS, SURROUNDINGS, SURROUNDINGS, st.sampled_from(sorted(SPELLINGS)))
    def test_no_spelling_of_the_secret_survives(self, secret, before, after, spelling):
        cleaned = Scrubber([secret])(f"{before}{SPELLINGS[spelling](secret)}{after}")
        self.assertEqual(surviving_spellings(secret, cleaned), [], f"echoed as {spelling}: {cleaned!r}")

    @settings(max_examples=100, deadline=None)
    @given(AWKWARD_SECRETS, st.lists(st.sampled_from(sorted(SPELLINGS)), min_size=2, max_size=6))
    def test_many_spellings_in_one_text(self, secret, spellings):
        text = " | ".join(SPELLINGS[name](secret) for name in spellings)
        self.assertEqual(surviving_spellings(secret, Scrubber([secret])(text)), [])

    def test_chosen_echoes(self):
        secret = "Pa&ss<w>\"rd'/é"
        for echo in (
            "Pa&amp;ss&lt;w&gt;&quot;rd&#x27;/é",
            "Pa&amp;ss&lt;w&gt;&quot;rd&#39;/&#233;",
            "pa&ss<w>\"rd'/é",
            "PA&SS<W>\"RD'/É",
            secret.encode().hex(),
            secret.encode().hex().upper(),
            "pa%26ss%3cw%3e%22rd%27%2f%c3%a9",
        ):
            with self.subTest(echo):
                self.assertEqual(Scrubber([secret])(f"server said: {echo}!"), f"server said: {MASK}!")

    def test_prose_around_a_secret_is_left_readable(self):
        self.assertEqual(
            scrub("login failed for NOC: bad PASSWORD hunter2-x", ["hunter2-x"]),
            "login failed for NOC: bad PASSWORD ***",
        )


class ErrorPageLeakTestCase(HypothesisTestCase):
    """The pages that show a source's error: whatever a server echoed, no spelling of the secret is in the HTML.

    The error takes the real path out of a source (the sources package's boundary turns a client library's
    exception into a scrubbed SourceError), is stored as the job stores it, and the pages render it.
    """

    @classmethod
    def setUpTestData(cls) -> None:
        cls.user = get_user_model().objects.create_user(username="cm-redaction-viewer")
        permission = ObjectPermission.objects.create(name="cm redaction view", actions=["view"])
        permission.object_types.set([ContentType.objects.get_for_model(NotificationSource)])
        permission.users.add(cls.user)
        cls.source = NotificationSource.objects.create(name="Echoing mailbox", source_type="imap")

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(AWKWARD_SECRETS, st.sampled_from(sorted(SPELLINGS)), SURROUNDINGS)
    @example("00000000", "HEX", "\x00")  # a server's NUL is stored as the replacement character
    def test_source_pages_show_the_error_without_the_secret(self, secret, spelling, around):
        echo = SPELLINGS[spelling](secret)

        class Echoing(MailboxSource):
            """A mailbox whose client library puts what it sent into its exceptions."""

            def fetch(self, cursor, since):
                yield from ()

            def test_connection(self) -> str:
                raise ValueError(f"login refused, as sent: {around}{echo}")

            def mark(self, outcomes):
                return []

        settings_ = SourceSettings(name=self.source.name, url="imap://mail.example", account="noc", secret=secret)
        with self.assertRaises(SourceError) as caught:
            Echoing(settings_).test_connection()
        error_text = str(caught.exception)
        self.client.force_login(self.user)  # each example gets a new client
        urls = {
            "source page": self.source.get_absolute_url(),
            "source list": reverse("plugins:nautobot_ssot_circuit_maintenance:notificationsource_list"),
        }
        for place, url in urls.items():
            NotificationSource.objects.filter(pk=self.source.pk).update(last_error="")
            baseline = self.client.get(url).content.decode()
            NotificationSource.objects.filter(pk=self.source.pk).update(last_error=error_text)
            response = self.client.get(url)
            self.assertEqual(response.status_code, 200)
            body = response.content.decode()
            if place == "source page":
                self.assertIn("login refused, as sent", body)  # the error is on the page
            # The page escapes what it shows: look for the spellings in the page and in the page unescaped.
            for text, base in ((body, baseline), (html.unescape(body), html.unescape(baseline))):
                self.assertEqual(surviving_spellings(secret, text, base), [], f"{place}, echoed as {spelling}")


class FeedTokenLogFilterTestCase(unittest.TestCase):
    """Log lines naming a feed address lose its token: in the path, and in a `token` parameter."""

    TOKEN = "Zq3-_kT0kenValue_0123456789abcdefABCDEF-xyz"  # noqa: S105

    def test_masking(self):
        for line, expected in (
            (f"/plugins/circuit-maintenance/calendar/feed/{self.TOKEN}.ics", "/calendar/feed/***.ics"),
            (f"GET /calendar/feed/{self.TOKEN}.ics?provider=Zayo HTTP/1.1", "/calendar/feed/***.ics?provider=Zayo "),
            (f"Not Found: /calendar/feed/{self.TOKEN}", "/calendar/feed/***"),
            (f"GET /calendar/feed.ics?provider=A&token={self.TOKEN}&x=1", "?provider=A&token=***&x=1"),
            (f"GET /calendar/feed.ics?TOKEN={self.TOKEN}", "?TOKEN=***"),
        ):
            with self.subTest(line):
                masked = mask_feed_tokens(line)
                self.assertNotIn(self.TOKEN, masked)
                self.assertIn(expected, masked)
        self.assertEqual(mask_feed_tokens("GET /calendar/feed.ics HTTP/1.1"), "GET /calendar/feed.ics HTTP/1.1")

    def test_the_app_puts_the_filter_on_the_loggers_that_write_paths(self):
        for name in FEED_PATH_LOGGERS:
            logger = logging.getLogger(name)
            self.assertTrue(any(isinstance(f, FeedTokenLogFilter) for f in logger.filters), name)
            stream = io.StringIO()
            handler = logging.StreamHandler(stream)
            logger.addHandler(handler)
            level = logger.level
            logger.setLevel(logging.INFO)
            try:
                logger.info('"%s" %s %s', f"GET /calendar/feed/{self.TOKEN}.ics HTTP/1.1", 404, 57)
            finally:
                logger.removeHandler(handler)
                logger.setLevel(level)
            self.assertIn("/calendar/feed/***.ics", stream.getvalue())
            self.assertNotIn(self.TOKEN, stream.getvalue())


class CredentialFileTestCase(unittest.TestCase):
    def setUp(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="cm-redaction-"))
        self.addCleanup(shutil.rmtree, self.folder, True)

    def test_every_value_but_the_public_ones_nested_or_in_lists(self):
        path = self.folder / "client.json"
        path.write_text(
            json.dumps(
                {
                    "web": {
                        "client_id": "public-id",
                        "client_secret": "s3cret",
                        "redirect_uris": ["https://nautobot.example/cb"],
                        "extra": ["listed-secret", {"deeper": "deep-secret"}],
                    },
                    "type": "authorized_user",
                    "number": 5,
                }
            )
        )
        self.assertEqual(sorted(credential_file_secrets(path)), ["deep-secret", "listed-secret", "s3cret"])

    def test_no_file_gives_nothing_and_a_file_that_is_not_json_is_a_secret_whole(self):
        self.assertEqual(credential_file_secrets(None), [])
        self.assertEqual(credential_file_secrets(self.folder / "missing.json"), [])
        (self.folder / "bad.json").write_text("{not json")
        self.assertEqual(credential_file_secrets(self.folder / "bad.json"), ["{not json"])
