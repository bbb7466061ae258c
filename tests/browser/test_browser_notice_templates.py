"""A notice template tried on stored mail in a real browser: on its page, and while editing it, nothing written."""

from __future__ import annotations

from django.test import override_settings
from django.urls import reverse
from selenium.webdriver.common.by import By

from nautobot_ssot_circuit_maintenance.choices import OutcomeChoices
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance, NoticeTemplate, RawNotification
from tests.fixtures import velox_mail
from tests.fixtures.browser import BrowserTestCase
from tests.fixtures.job_helpers import JobTestMixin, MailFolder, plugin_config

WHOLE = {"raw_notification_size": 1_000_000}
WRONG_FORMAT = "%Y-%m-%d %H:%M"  # not how Velox Fibre writes its dates


class NoticeTemplateBrowserTest(JobTestMixin, BrowserTestCase):
    """Velox Fibre's mail synced with a template whose date format is wrong: every notice failed to parse."""

    def setUp(self) -> None:
        super().setUp()
        provider = velox_mail.velox_provider()
        self.template = velox_mail.save_template(provider, date_formats=WRONG_FORMAT)
        self.folder = MailFolder()
        self.addCleanup(self.folder.cleanup)
        for name in velox_mail.NOTICES:
            self.folder.add(velox_mail.notice(name), name)
        override = override_settings(PLUGINS_CONFIG=plugin_config([self.folder.source], **WHOLE))
        override.enable()
        self.addCleanup(override.disable)
        with self.configured([self.folder.source], **WHOLE):
            result, _ = self.run_sync()
        self.assertEqual(result.status, "SUCCESS", self.job_log(result))
        self.stored = list(RawNotification.objects.order_by("pk").values_list("pk", "outcome", "error"))
        self.assertEqual({outcome for _, outcome, _ in self.stored}, {OutcomeChoices.PARSING_FAILED})
        self.login()

    def rows(self) -> list[str]:
        return [row.text for row in self.browser.find_elements(By.CSS_SELECTOR, "#cm-tried .cm-tried-row")]

    def test_the_template_page_and_the_edit_page_show_what_it_reads_and_write_nothing(self) -> None:
        self.visit(self.template.get_absolute_url())
        self.wait_for_text("read with this template as the sync would read them")
        self.wait_for_text("fits none of the date formats", "#cm-tried")
        self.assertEqual(len(self.rows()), len(velox_mail.NOTICES))
        self.assertTrue(all("fits none of the date formats" in row for row in self.rows()))

        # While editing: the date format fixed, tried before saving.
        self.visit(reverse("plugins:nautobot_ssot_circuit_maintenance:noticetemplate_edit", args=[self.template.pk]))
        formats = self.browser.find_element(By.ID, "id_date_formats")
        formats.clear()
        formats.send_keys(velox_mail.TEMPLATE["date_formats"])
        self.browser.find_element(By.ID, "cm-try").click()
        self.wait_for_text("Nothing is written", "#cm-try-result")
        self.wait_for_text("VLX-2027-0142", "#cm-tried")
        rows = self.rows()
        self.assertEqual(len(rows), len(velox_mail.NOTICES))
        self.assertFalse(self.browser.find_elements(By.CSS_SELECTOR, "#cm-tried .cm-tried-error"))
        # The newest first: Velox's reschedule of VLX-2027-0142, in UTC (22:00 Paris summer time is 20:00 UTC).
        self.assertIn("VLX-2027-0142", rows[0])
        self.assertIn("2027-04-06 20:00 – 2027-04-07 04:00", rows[0])
        self.assertIn("VLX/DF/000017 (OUTAGE)", rows[0])
        self.assertIn("VLX/ETH/131377 (NO-IMPACT)", rows[0])
        self.assertIn("RE-SCHEDULED", rows[0])
        self.assertIn("CANCELLED", rows[2])
        # Nothing was written: neither the template nor the stored mail, and no maintenance.
        self.template.refresh_from_db()
        self.assertEqual(self.template.date_formats, WRONG_FORMAT)
        self.assertEqual(
            list(RawNotification.objects.order_by("pk").values_list("pk", "outcome", "error")), self.stored
        )
        self.assertFalse(CircuitMaintenance.objects.exists())

        # Saved from the tried form: the template page now reads every notice.
        self.browser.find_element(By.CSS_SELECTOR, "button[name=_update]").click()
        self.wait_for_text("read with this template as the sync would read them")
        self.wait_for_text("VLX-2027-0101", "#cm-tried")
        self.assertEqual(NoticeTemplate.objects.get().date_formats, velox_mail.TEMPLATE["date_formats"])
        self.assertFalse(self.browser.find_elements(By.CSS_SELECTOR, "#cm-tried .cm-tried-error"))
