"""redaction.py alone, with drawn secrets and payloads: whatever surrounds a known secret, it does not survive.

tests/test_secrets.py checks chosen spellings and the sources' entry points; these draw the secret and
its surroundings with hypothesis and check the property itself (decoding what is left, for base64).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import shutil
import string
import tempfile
import unittest
from pathlib import Path
from urllib.parse import quote, quote_plus

from hypothesis import given, settings
from hypothesis import strategies as st

from nautobot_ssot_circuit_maintenance.redaction import (
    MASK,
    Scrubber,
    credential_file_secrets,
    encoded_forms,
    mask_url_credentials,
    scrub,
)

# Secrets as providers issue them: printable, no whitespace, long enough to be told from prose.
SECRETS = st.text(alphabet=string.ascii_letters + string.digits + "-._~+/=!$%&()@:;?", min_size=8, max_size=60)
# What a server wraps around an echo; "*" is left out so the mask cannot be mistaken for the text.
SURROUNDINGS = st.text(alphabet=st.characters(blacklist_characters="*", blacklist_categories=("Cs",)), max_size=40)
SPELLINGS = {
    "raw": lambda s: s,
    "url path": lambda s: quote(s, safe=""),
    "url": quote,
    "form": quote_plus,
    "json": lambda s: json.dumps(s)[1:-1],
    "json slashes": lambda s: json.dumps(s)[1:-1].replace("/", "\\/"),
}


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
