"""Triage, acknowledgement and layout in a real browser (the docs' screenshots: test_demo_pages)."""

from __future__ import annotations

import re

from django.test import override_settings
from django.urls import reverse
from nautobot.circuits.models import Circuit
from nautobot.extras.models import Job
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from nautobot_ssot_circuit_maintenance.choices import OutcomeChoices
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance, RawNotification
from nautobot_ssot_circuit_maintenance.providers import EMAILS_FIELD
from tests.fixtures.browser import LIST_TABLE, BrowserTestCase
from tests.fixtures.job_helpers import JobTestMixin, MailFolder, plugin_config
from tests.fixtures.sample_data import corpus_by_name, create_providers_and_circuits
from tests.fixtures.ui_data import build_ui_data

PREFIX = "plugins:nautobot_ssot_circuit_maintenance"
MESSAGES = corpus_by_name()
AWS_LAG = "dxlag-00000003"
HASH_ID = "387c99e743b96cf135b8e97d56c2dbbc02a0acda4eaf9637bcfeb23a7ebc96e2"
WHOLE = {"raw_notification_size": 1_000_000}


def choose(browser, select_id: str, value: str, label: str) -> None:
    """Pick a value in one of Nautobot's API-backed select2 fields, as a click in its list would."""
    browser.execute_script(
        "const s = document.getElementById(arguments[0]);"
        "s.append(new Option(arguments[2], arguments[1], true, true));"
        "s.dispatchEvent(new Event('change', {bubbles: true}));",
        select_id,
        value,
        label,
    )


class TriageBrowserTest(JobTestMixin, BrowserTestCase):
    """Real corpus mail synced from a folder; an operator resolves each case from the triage queue."""

    def setUp(self) -> None:
        super().setUp()
        self.providers = create_providers_and_circuits(skip_cids=frozenset({AWS_LAG}))
        att = self.providers["att"]
        att._custom_field_data[EMAILS_FIELD] = ""  # AT&T's sender is unknown
        att.validated_save()
        self.folder = MailFolder()
        self.addCleanup(self.folder.cleanup)
        for name in ("att1", "aws3"):
            self.folder.add(MESSAGES[name], name)
        override = override_settings(PLUGINS_CONFIG=plugin_config([self.folder.source], **WHOLE))
        override.enable()
        self.addCleanup(override.disable)
        with self.configured([self.folder.source], **WHOLE):
            self.run_sync()
        job = Job.objects.get(job_class_name="CircuitMaintenanceDataSource")
        job.enabled = True
        job.save()
        self.login()

    def open_action(self, raw: RawNotification, label: str) -> None:
        self.visit(reverse(f"{PREFIX}:triage_list"))
        self.wait_for_text(raw.subject[:30], LIST_TABLE)
        row = self.browser.find_element(By.XPATH, f"//tr[.//a[@href='{raw.get_absolute_url()}']]")
        row.find_element(By.PARTIAL_LINK_TEXT, label).click()
        self.wait_for_text(raw.subject[:30], "#triage-action, body")

    def test_unknown_sender_assigned_then_parsed_on_reprocess(self):
        raw = RawNotification.objects.get(outcome=OutcomeChoices.UNKNOWN_PROVIDER)
        self.visit(reverse(f"{PREFIX}:triage_list"))
        self.wait_for_text("Unknown provider", LIST_TABLE)
        self.assertIn("Triage queue (2)", self.browser.title)

        self.open_action(raw, "Assign sender")
        self.assertIn("g31654@att.com", self.text_of())
        att = self.providers["att"]
        choose(self.browser, "id_provider", str(att.pk), att.name)
        self.browser.find_element(By.CSS_SELECTOR, ".nb-form-sticky-footer button[type=submit]").click()

        # The sync job ran over the stored message: its result page, then the notification, parsed.
        self.wait_for_text("Circuit Maintenance notifications")
        raw.refresh_from_db()
        self.assertEqual(raw.outcome, OutcomeChoices.PARSED)
        self.visit(CircuitMaintenance.objects.get(maintenance_id="1234567").get_absolute_url())
        self.wait_for_text("23/HCGS/123456/SC")

    def test_unknown_circuit_mapped_then_linked(self):
        raw = RawNotification.objects.get(outcome=OutcomeChoices.UNKNOWN_CIDS)
        some = Circuit.objects.first()
        lag = Circuit.objects.create(
            cid="AWS-LAG-3", provider=self.providers["aws"], circuit_type=some.circuit_type, status=some.status
        )
        self.open_action(raw, "Map circuit ID")
        Select(self.browser.find_element(By.ID, "id_circuit_id")).select_by_value(AWS_LAG)
        choose(self.browser, "id_circuit", str(lag.pk), lag.cid)
        self.browser.find_element(By.CSS_SELECTOR, ".nb-form-sticky-footer button[type=submit]").click()
        self.wait_for_text("Circuit Maintenance notifications")

        maintenance = CircuitMaintenance.objects.get(maintenance_id=HASH_ID)
        self.assertEqual(maintenance.unresolved_circuit_ids, [])
        self.visit(maintenance.get_absolute_url())
        self.wait_for_text("AWS-LAG-3")
        badges = [b.text for b in self.browser.find_elements(By.CSS_SELECTOR, "span.badge.bg-danger")]
        self.assertEqual(badges.count("Outage"), 3)
        # The 64-character id wraps inside its panel: nothing is wider than the window.
        self.assertLessEqual(
            self.browser.execute_script("return document.documentElement.scrollWidth"),
            self.browser.execute_script("return window.innerWidth"),
        )

    def test_dismiss_with_a_reason(self):
        raw = RawNotification.objects.get(outcome=OutcomeChoices.UNKNOWN_CIDS)
        self.open_action(raw, "Dismiss")
        self.browser.find_element(By.ID, "id_reason").send_keys("Circuit decommissioned")
        self.browser.find_element(By.CSS_SELECTOR, ".nb-form-sticky-footer button[type=submit]").click()
        self.wait_for_text("Dismissed")
        self.assertIn("Triage queue (1)", self.browser.title)
        raw.refresh_from_db()
        self.assertEqual((raw.dismissed_by, raw.dismiss_reason), (self.user, "Circuit decommissioned"))


class AcknowledgeBrowserTest(BrowserTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.data = build_ui_data()
        self.login()

    def test_one_click_on_the_page(self):
        maintenance = self.data.maintenances[0]
        self.visit(maintenance.get_absolute_url())
        self.wait_for_text("Needs attention")
        form = self.browser.find_element(By.XPATH, "//form[@method='post'][.//button[contains(., 'Acknowledge')]]")
        form.find_element(By.NAME, "comment").send_keys("Agreed with the NOC")
        form.find_element(By.TAG_NAME, "button").click()
        self.wait_for_text(f"Acknowledged by {self.user.username}")
        self.wait_for_text("Agreed with the NOC")  # the comment, kept as a note
        maintenance.refresh_from_db()
        self.assertEqual(maintenance.acknowledged_by, self.user)
        self.browser.find_element(By.XPATH, "//form[@method='post']//button[contains(., 'Unacknowledge')]").click()
        self.wait_for_text("Unacknowledged")
        maintenance.refresh_from_db()
        self.assertFalse(maintenance.ack)

    def test_acknowledge_selected_on_the_list(self):
        CircuitMaintenance.objects.filter(pk=self.data.maintenances[1].pk).update(name=HASH_ID, maintenance_id=HASH_ID)
        self.visit(reverse(f"{PREFIX}:circuitmaintenance_list"))
        self.wait_for_text("Planned work 0", LIST_TABLE)
        self.assertEqual(self.text_of(LIST_TABLE).count("Needs attention"), 2)
        # Long ids wrap, dates stay on one line, the table fits the window.
        self.assertLessEqual(
            self.browser.execute_script("return document.documentElement.scrollWidth"),
            self.browser.execute_script("return window.innerWidth"),
        )
        date_cells = self.browser.find_elements(
            By.CSS_SELECTOR, ", ".join(f"{table} td span.text-nowrap" for table in LIST_TABLE.split(", "))
        )
        self.assertTrue(date_cells)
        lines = "const r = document.createRange(); r.selectNodeContents(arguments[0]); return r.getClientRects().length"
        dates = [cell for cell in date_cells if re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", cell.text)]
        self.assertGreaterEqual(len(dates), 4)  # each window's start (its end, on another day, too)
        for cell in dates:
            self.assertEqual(self.browser.execute_script(lines, cell), 1, f"{cell.text!r} is on one line")
        for maintenance in self.data.maintenances[:2]:
            self.browser.find_element(By.CSS_SELECTOR, f"input[name=pk][value='{maintenance.pk}']").click()
        self.browser.find_element(By.ID, "acknowledge-selected").click()
        self.wait_for_text("Acknowledged 2 maintenances")
        self.wait_for_text("Planned work 0", LIST_TABLE)
        self.assertNotIn("Needs attention", self.text_of(LIST_TABLE))
        for maintenance in self.data.maintenances[:2]:
            maintenance.refresh_from_db()
            self.assertEqual(maintenance.acknowledged_by, self.user)
