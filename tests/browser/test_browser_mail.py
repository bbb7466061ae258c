"""In a real browser: the readable mail (inert, decoded, downloadable) and a maintenance's timeline.

The screenshots in docs/images/ are taken by test_demo_pages, from the demo's data.
"""

from __future__ import annotations

import hashlib
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.urls import reverse
from selenium.webdriver.common.by import By

from nautobot_ssot_circuit_maintenance.compat.releases import collapsed_panel_options
from nautobot_ssot_circuit_maintenance.mail.readable import FRAME_STYLE
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance
from tests.fixtures.browser import BrowserTestCase
from tests.fixtures.job_helpers import JobTestMixin, MailFolder
from tests.fixtures.mail_samples import ZAYO_SERIES_ID, corpus_message, hostile_html_mail, zayo_series
from tests.fixtures.sample_data import create_providers_and_circuits
from tests.views.test_mail_views import store

PREFIX = "plugins:nautobot_ssot_circuit_maintenance"


class RecordingServer:
    """A loopback web server that stands for the internet: it records every request a page makes to it."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        recorded = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                recorded.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/gif")
                self.end_headers()
                self.wfile.write(b"GIF89a")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class MailBrowserTest(JobTestMixin, BrowserTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.login()

    def fetch_sha256(self, url: str) -> str:
        """The SHA-256 of what the browser downloads from `url` with the user's session."""
        return self.browser.execute_async_script(
            """
            const done = arguments[arguments.length - 1];
            fetch(arguments[0]).then(r => r.arrayBuffer()).then(b => crypto.subtle.digest('SHA-256', b))
              .then(d => done(Array.from(new Uint8Array(d)).map(x => x.toString(16).padStart(2, '0')).join('')));
            """,
            url,
        )

    def test_hostile_html_mail_is_shown_inert_and_decoded(self):
        internet = RecordingServer()
        self.addCleanup(internet.close)
        raw = store(hostile_html_mail(remote=internet.url))
        self.visit(raw.get_absolute_url())
        self.wait_for_text("NOC équipe <noc@provider-a.example>")
        page = self.text_of()
        self.assertIn("Maintenance <script>alert(1)</script> café", page)  # the decoded subject, as text
        self.assertIn("Jérôme <jerome@example.net>", page)
        self.assertIn("Planned work caf", self.text_of("pre.cm-mail-text"))
        self.assertIn("../../evil.html", self.text_of("table.cm-mail-attachments"))
        # Raw headers are folded away until asked for (where Nautobot's panels can start collapsed; see compat.py).
        shown = self.browser.find_element(By.CSS_SELECTOR, "pre.cm-mail-raw-headers").is_displayed()
        self.assertEqual(shown, not collapsed_panel_options())
        frame = self.browser.find_element(By.CSS_SELECTOR, "iframe.cm-mail-html")
        self.assertEqual(frame.get_attribute("sandbox"), "")
        self.browser.execute_script("arguments[0].scrollIntoView()", frame)
        time.sleep(2)  # time for anything that would load or run
        self.assert_no_alert()
        self.browser.switch_to.frame(frame)
        try:
            self.assertIn("Planned work café", self.text_of("h1"))
            self.assertEqual(self.browser.find_elements(By.CSS_SELECTOR, "script, iframe, svg, link"), [])
            # The only style sheet is the frame's own (wrapping), none of the mail's.
            styles = [e.get_attribute("textContent") for e in self.browser.find_elements(By.TAG_NAME, "style")]
            self.assertEqual(styles, [FRAME_STYLE])
            for image in self.browser.find_elements(By.TAG_NAME, "img"):
                self.assertIsNone(image.get_dom_attribute("src"))
            for element in self.browser.find_elements(By.CSS_SELECTOR, "*"):
                for name in ("onload", "onclick", "onerror", "style"):
                    self.assertIsNone(element.get_dom_attribute(name))
            links = [a.get_attribute("href") for a in self.browser.find_elements(By.TAG_NAME, "a")]
            self.assertNotIn("javascript", " ".join(filter(None, links)))
        finally:
            self.browser.switch_to.default_content()
        self.assertEqual(internet.requests, [], "the mail's remote images or style sheets were loaded")
        # The attachment is offered as a file, never rendered.
        self.browser.find_element(By.CSS_SELECTOR, "a.cm-download-eml")
        self.assert_no_alert()

    def test_eml_download_is_the_original_28_kb_mail(self):
        original = corpus_message("zayo8")
        raw = store(original)
        self.visit(raw.get_absolute_url())
        self.wait_for_text("Download .eml")
        href = self.browser.find_element(By.CSS_SELECTOR, "a.cm-download-eml").get_attribute("href")
        self.assertEqual(href, f"{self.live_server_url}{reverse(f'{PREFIX}:rawnotification_eml', args=[raw.pk])}")
        self.assertEqual(self.fetch_sha256(href), hashlib.sha256(original).hexdigest())
        self.assertGreater(len(original), 28_000)

    def test_timeline_of_a_three_notice_zayo_maintenance(self):
        create_providers_and_circuits()
        folder = MailFolder()
        self.addCleanup(folder.cleanup)
        with self.configured([folder.source]):
            for name, message in zayo_series():
                folder.add(message, name)
                result, _ = self.run_sync()
                self.assertEqual(result.status, "SUCCESS", self.job_log(result))
        maintenance = CircuitMaintenance.objects.get(maintenance_id=ZAYO_SERIES_ID)
        self.visit(maintenance.get_absolute_url())
        self.wait_for_text("TIMELINE")
        rows = [row.text for row in self.browser.find_elements(By.CSS_SELECTOR, "tr.cm-timeline-row")]
        self.assertEqual(len(rows), 3, rows)
        # The reschedule received twice: one created the maintenance, the other changed nothing and says why.
        created = [row for row in rows[:2] if "status RE-SCHEDULED" in row]
        self.assertEqual(len(created), 1, rows)
        self.assertIn(
            "window 2022-01-06 05:01–11:00 UTC, 2022-01-07 05:01–11:00 UTC, 2022-01-08 05:01–11:00 UTC", created[0]
        )
        self.assertRegex(next(row for row in rows[:2] if row is not created[0]), r"out of sequence|no change")
        self.assertIn("status RE-SCHEDULED → CANCELLED", rows[2])
        # Each row links to its mail; the rows that changed something to their run's log entry.
        self.assertEqual(len(self.browser.find_elements(By.CSS_SELECTOR, "tr.cm-timeline-row a[href*='?id=']")), 2)
        table = self.browser.find_element(By.CSS_SELECTOR, "table.cm-timeline")
        self.browser.execute_script("arguments[0].scrollIntoView()", table)
        self.browser.find_elements(By.CSS_SELECTOR, "tr.cm-timeline-row a")[-2].click()
        self.wait_for_text("CANCELLED NOTIFICATION")
        self.assert_no_alert()
