"""The app's pages in a real browser: what an operator sees, and that mail content never runs as code."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from django.test import override_settings
from django.urls import reverse
from selenium.webdriver.common.by import By

from nautobot_ssot_circuit_maintenance.config import APP_NAME
from tests.fixtures.browser import BrowserTestCase
from tests.fixtures.ui_data import build_ui_data

PREFIX = "plugins:nautobot_ssot_circuit_maintenance"


class MaintenancePagesBrowserTest(BrowserTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.data = build_ui_data()
        self.login()

    def test_list_links_to_a_detail_with_windows_circuits_notes_and_notifications(self):
        self.visit(reverse(f"{PREFIX}:circuitmaintenance_list"))
        self.wait_for_text("Planned work 0", "table")
        for maintenance in self.data.maintenances:
            self.assertIn(maintenance.name, self.text_of("table"))
        self.browser.find_element(By.LINK_TEXT, "Planned work 0").click()

        self.wait_for_text("CM-MAINT-0")
        page = self.text_of()
        for expected in (
            "Fibre work number 0",
            "Confirmed",
            "CM-CID-0",
            "CM-CID-3",
            "Outage",
            "Degraded",
            "Unknown circuit GHOST-1",
            "GHOST-1",
            "Maintenance <script>alert(1)</script>",  # the notification's subject, as text
        ):
            self.assertIn(expected, page)
        # Both windows of the maintenance, in UTC.
        self.assertIn("2030-01-10 22:00 UTC 2030-01-11 02:00 UTC 4h 00m", page)
        self.assertIn("2030-01-17 22:00 UTC 2030-01-18 00:00 UTC 2h 00m", page)
        self.assert_no_alert()

    def test_raw_notification_shows_mail_decoded_and_runs_nothing(self):
        raw = self.data.raw_notifications[0]
        self.visit(raw.get_absolute_url())
        self.wait_for_text("<script>alert(1)</script>")  # the subject, as text
        self.assert_no_alert()
        # Nothing of the mail became an element of the page: no image with the mail's bogus source, no script.
        self.assertFalse(self.browser.find_elements(By.CSS_SELECTOR, "img[src='x']"))
        scripts = self.browser.execute_script(
            "return Array.from(document.scripts).map(s => s.textContent).join('\\n');"
        )
        self.assertNotIn("alert(", scripts)
        # Its HTML part, sanitized, in a sandboxed frame: decoded text, an image without source.
        self.browser.switch_to.frame(self.browser.find_element(By.CSS_SELECTOR, "iframe.cm-mail-html"))
        try:
            self.assertIn("café", self.text_of())
            self.assertIn("Planned work", self.text_of("h1"))
            self.assertFalse(self.browser.find_elements(By.CSS_SELECTOR, "script, img[src], [onerror]"))
        finally:
            self.browser.switch_to.default_content()
        self.assert_no_alert()

    def test_validate_button_reports_on_the_mailbox(self):
        folder = Path(tempfile.mkdtemp(prefix="cm-browser-"))
        self.addCleanup(shutil.rmtree, folder, True)
        (folder / "one.eml").write_bytes(b"From: noc@provider-a.example\r\nSubject: hi\r\n\r\nhello\r\n")
        config = dict(settings.PLUGINS_CONFIG)
        config[APP_NAME] = {
            **config[APP_NAME],
            "notification_sources": [{"name": "Mailbox three", "url": f"file://{folder}"}],
        }
        with override_settings(PLUGINS_CONFIG=config):
            self.visit(self.data.sources[2].get_absolute_url())
            self.wait_for_text("Mailbox three")
            # A POST form's button (CSRF token included), not a link.
            self.browser.find_element(By.XPATH, "//form[@method='post']//button[contains(., 'Validate')]").click()
            self.wait_for_text("Mailbox three: connected.")
            self.assertIn("1 messages", self.text_of())

    def test_app_menu_reaches_the_pages(self):
        self.visit("/")
        links = {
            element.get_attribute("href")
            for element in self.browser.find_elements(By.CSS_SELECTOR, "a[href*='/plugins/circuit-maintenance/']")
        }
        for name in ("circuitmaintenance_list", "rawnotification_list", "notificationsource_list"):
            self.assertIn(f"{self.live_server_url}{reverse(f'{PREFIX}:{name}')}", links)
