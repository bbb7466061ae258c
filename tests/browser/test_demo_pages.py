"""Every page a user meets, on the demo's data, in a 1400 px wide Chromium; the screenshots of docs/ are taken here.

The demo's data is loaded as `./run demo` loads it (its providers, sites, mailbox and dates), synced by the real job.
On each page the elements are measured, not the pixels: the page must not scroll sideways, no table or card may
scroll sideways or clip what it holds, no cell may be cut or wrapped into a column of fragments, no badge may be
cut off, no calendar title may be cut.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.test import override_settings
from django.urls import reverse
from nautobot.dcim.models import Device, Location
from nautobot.extras.models import Job, Secret, SecretsGroup, SecretsGroupAssociation
from selenium.webdriver.common.by import By

from development.demo import MISSING_CIRCUIT
from development.demo_dates import move_to_today
from development.demo_mail import demo_messages
from nautobot_ssot_circuit_maintenance.choices import (
    ActionKindChoices,
    ActionOccasionChoices,
    LiveStateChoices,
    OutcomeChoices,
)
from nautobot_ssot_circuit_maintenance.customers.drafts import draft_notices
from nautobot_ssot_circuit_maintenance.flags.store import refresh_flags
from nautobot_ssot_circuit_maintenance.models import (
    ActionRule,
    CircuitMaintenance,
    CustomerNotice,
    NotificationSource,
    ParsedNotification,
    RawNotification,
)
from tests.fixtures.browser import BrowserTestCase
from tests.fixtures.customer_data import create_demo_customers
from tests.fixtures.job_helpers import JobTestMixin, MailFolder, plugin_config
from tests.fixtures.sample_data import create_providers_and_circuits
from tests.fixtures.site_data import create_demo_sites

PREFIX = "plugins:nautobot_ssot_circuit_maintenance"
IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
# Text wrapped onto more lines than it has words is broken inside its words (a name cut every few characters),
# except that an unbroken value longer than this (a 64-character hash) may take a line per this many characters.
LONG_WORD = 20

# What is wrong with the page's layout, as a list of sentences (empty: nothing).
LAYOUT_PROBLEMS = """
const problems = [];
const classes = (el) => (typeof el.className === 'string' && el.className.trim()
    ? '.' + el.className.trim().split(/\\s+/).slice(0, 3).join('.') : '');
const name = (el) => (el.id ? '#' + el.id : el.tagName.toLowerCase() + classes(el))
    + ' "' + el.innerText.trim().slice(0, 60) + '"';
// How many lines a text takes: the distinct tops of its boxes (a cell's height says nothing: its row sets it).
const lineCount = (node) => {
    const range = document.createRange();
    range.selectNodeContents(node);
    return new Set(Array.from(range.getClientRects(), (r) => Math.round(r.top / 4))).size;
};
const shown = (el) => el.offsetParent !== null && el.getClientRects().length > 0;
const root = document.documentElement;
if (root.scrollWidth > window.innerWidth) {
    problems.push(`the page scrolls sideways (${root.scrollWidth} > ${window.innerWidth} px)`);
}
for (const box of document.querySelectorAll('.table-responsive, .card, .card-body, table')) {
    if (shown(box) && box.scrollWidth > box.clientWidth + 1) {
        problems.push(`${name(box)} scrolls sideways or clips (${box.scrollWidth} > ${box.clientWidth} px)`);
    }
}
for (const cell of document.querySelectorAll('td, th')) {
    if (!shown(cell) || !cell.innerText.trim()) continue;
    if (cell.scrollWidth > cell.clientWidth + 1) {
        problems.push(`cell ${name(cell)} is cut (${cell.scrollWidth} > ${cell.clientWidth} px)`);
        continue;
    }
    // Each run of text: a word broken over lines. Words part at spaces, hyphens, slashes and @ (where a browser
    // breaks anyway); a long unbroken one may take a line per LONG_WORD characters.
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const words = node.textContent.split(/[\\s\\-\\/@]+/).filter((word) => word);
        if (!words.length) continue;
        const allowed = words.reduce((sum, word) => sum + 1 + Math.floor(word.length / arguments[0]), 0);
        const lines = lineCount(node);
        if (lines > allowed) {
            const text = words.join(' ').slice(0, 40);
            problems.push(`"${text}" in ${name(cell)} is broken into ${lines} lines (${words.length} words)`);
        }
    }
}
for (const badge of document.querySelectorAll('.badge, .cm-event')) {
    if (!shown(badge)) continue;
    if (badge.scrollWidth > badge.clientWidth + 1) problems.push(`${name(badge)} is cut`);
    const box = badge.getBoundingClientRect();
    for (let up = badge.parentElement; up && up !== document.body; up = up.parentElement) {
        const overflow = getComputedStyle(up).overflowX;
        if (overflow === 'visible') continue;
        const outer = up.getBoundingClientRect();
        if (box.right > outer.right + 1 || box.left < outer.left - 1) {
            problems.push(`${name(badge)} sticks out of ${name(up)}`);
        }
        break;
    }
}
return problems;
"""


# The innermost card whose text holds `text` (lower case; Nautobot title-cases headings).
CARD_WITH = (
    "//div[contains(concat(' ', normalize-space(@class), ' '), ' card ')]"
    "[.//*[contains(translate(normalize-space(.), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'),"
    " '{text}')]]"
    "[not(.//div[contains(concat(' ', normalize-space(@class), ' '), ' card ')])]"
)


def demo_action_rules(provider) -> ActionRule:
    """Two rules for the provider's maintenances: post to Slack as they start and end, check their reach before."""
    variable = "CM_DEMO_SLACK_URL"
    os.environ[variable] = "slack://T000/B000/XXXXXXXX/#noc"
    secret = Secret.objects.create(
        name="Slack NOC webhook", provider="environment-variable", parameters={"variable": variable}
    )
    group = SecretsGroup.objects.create(name="Slack NOC")
    SecretsGroupAssociation.objects.create(secrets_group=group, secret=secret, access_type="Generic", secret_type="url")
    slack = ActionRule.objects.create(
        name="Slack the NOC",
        transitions=[LiveStateChoices.IN_PROGRESS, LiveStateChoices.ENDED],
        secrets_group=group,
        subject_template="{{ maintenance.label }} {{ occasion }}",
        body_template="{% for i in reach.impacts %}{{ i.circuit.cid }} ({{ i.get_impact_display() }}) {% endfor %}",
    )
    slack.providers.set([provider])
    check = Job.objects.get(job_class_name="CheckMaintenanceReach")
    check.enabled = True
    check.save()
    ActionRule.objects.create(
        name="Check reach before",
        kind=ActionKindChoices.JOB,
        occasion=ActionOccasionChoices.BEFORE_START,
        offset_minutes=30,
        job=check,
    )
    return slack


def screenshot(browser, name: str) -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(IMAGES / name))


class DemoPagesBrowserTest(JobTestMixin, BrowserTestCase):
    """The demo's data, synced by the real job; every page visited as an operator meets it."""

    def setUp(self) -> None:
        super().setUp()
        providers = create_providers_and_circuits(skip_cids=frozenset({MISSING_CIRCUIT}))
        self.sites = create_demo_sites(providers)
        folder = MailFolder("Demo mailbox")
        self.addCleanup(folder.cleanup)
        for name, raw in demo_messages().items():
            folder.add(raw, name)
        # The demo's source and features (development/nautobot_config.py and `./run demo`).
        source = {**folder.source, "authentication": settings.DEMO_MAILBOX_AUTHENTICATION}
        features = {"push": {"enable": True}, "metrics": {"enable": True}}
        override = override_settings(PLUGINS_CONFIG=plugin_config([source], **features))
        override.enable()
        self.addCleanup(override.disable)
        with self.configured([source], **features):
            result, self.sync = self.run_sync()
        self.assertEqual(result.status, "SUCCESS", self.job_log(result))
        move_to_today(self.user)
        refresh_flags()
        create_demo_customers()
        draft_notices()
        job = Job.objects.get(job_class_name="CircuitMaintenanceDataSource")
        job.enabled = True
        job.save()
        self.login()

    def check_page(self, path: str, wait_for: str, image: str | None = None) -> None:
        """Visit `path`, wait for `wait_for`, measure the layout, and take the screenshot `image`."""
        with self.subTest(page=path):
            self.visit(path)
            self.wait_for_text(wait_for)
            self.browser.execute_script("return document.fonts.ready")
            if image:
                screenshot(self.browser, image)
            problems = self.browser.execute_script(LAYOUT_PROBLEMS, LONG_WORD)
            self.assertEqual(problems, [], f"{path} at 1400 px")

    def test_every_page_at_1400_px(self):
        aws = CircuitMaintenance.objects.filter(provider__name="AWS", circuit_impacts__isnull=False).first()
        chicago = Location.objects.get(name="Chicago DC1")
        raw = RawNotification.objects.filter(parsed_notifications__maintenance=aws).first()
        parsed = ParsedNotification.objects.filter(maintenance=aws).first()
        unknown_sender = RawNotification.objects.get(outcome=OutcomeChoices.UNKNOWN_PROVIDER)
        unknown_circuit = RawNotification.objects.get(outcome=OutcomeChoices.UNKNOWN_CIDS)
        source = NotificationSource.objects.get(name="Demo mailbox")
        notice = CustomerNotice.objects.filter(tenant__name="Acme Retail").order_by("start_time").first()
        pages = [
            (reverse(f"{PREFIX}:overview"), "Demo mailbox", "overview.png"),
            (reverse(f"{PREFIX}:circuitmaintenance_list"), "Chicago DC1", "maintenance-list.png"),
            (aws.get_absolute_url(), aws.maintenance_id, "maintenance-detail.png"),
            (reverse(f"{PREFIX}:calendar") + "?view=month", "Subscribe", "calendar-month.png"),
            (reverse(f"{PREFIX}:calendar") + "?view=week", "Subscribe", "calendar-week.png"),
            (reverse(f"{PREFIX}:calendar") + "?view=list", "Subscribe", "calendar-list.png"),
            (reverse(f"{PREFIX}:calendar_subscribe"), "feed", "calendar-subscribe.png"),
            (chicago.get_absolute_url(), "Isolation", "location-panel.png"),
            (Device.objects.get(name="chi-edge-01").get_absolute_url(), "Isolation", "device-panel.png"),
            (reverse(f"{PREFIX}:triage_list"), "Unknown provider", "triage-queue.png"),
            (
                reverse(f"{PREFIX}:triage_assign_sender", args=[unknown_sender.pk]),
                "network-notices@att-mail.example",
                "triage-assign-sender.png",
            ),
            (
                reverse(f"{PREFIX}:triage_map_circuit", args=[unknown_circuit.pk]),
                MISSING_CIRCUIT,
                "triage-map-circuit.png",
            ),
            (reverse(f"{PREFIX}:rawnotification_list"), "Upload .eml", "notifications.png"),
            (raw.get_absolute_url(), raw.subject[:30], "raw-notification.png"),
            (reverse(f"{PREFIX}:rawnotification_upload"), "raw message", "upload.png"),
            (reverse(f"{PREFIX}:notificationsource_list"), "Demo mailbox", "sources.png"),
            (source.get_absolute_url(), "Validate", "source-detail.png"),
            (reverse("plugins:nautobot_ssot:dashboard"), "Circuit Maintenance", "ssot-dashboard.png"),
            (self.sync.get_absolute_url(), "Diff", "ssot-sync.png"),
            (reverse(f"{PREFIX}:customernotice_list"), "Acme Retail", "customer-notices.png"),
            (notice.get_absolute_url(), "Dear Acme Retail", "customer-notice.png"),
            (
                reverse(f"{PREFIX}:customernotice_changelog", args=[notice.pk]),
                "Acme Retail",
                "customer-notice-history.png",
            ),
            (notice.tenant.get_absolute_url(), "Acme Retail", "tenant-notices.png"),
            (reverse(f"{PREFIX}:customernoticetemplate_add"), "Subject", None),
        ]
        if parsed is not None:
            pages.append((parsed.raw_notification.get_absolute_url(), "Parsed", None))
        for path, wait_for, image in pages:
            self.check_page(path, wait_for, image)

        # What hangs on the maintenance that isolates Chicago DC1, what its action rules will fire, and its timeline.
        windstream = CircuitMaintenance.objects.get(provider__name="Windstream", maintenance_id="123456")
        rule = demo_action_rules(windstream.provider)
        self.check_page(reverse(f"{PREFIX}:actionrule_list"), "Slack the NOC", "action-rules.png")
        self.check_page(rule.get_absolute_url(), "Slack NOC")
        self.check_page(windstream.get_absolute_url(), "chi-edge-01")
        self.screenshot_of(CARD_WITH.format(text="what hangs on them"), "maintenance-reach.png")
        self.screenshot_of(CARD_WITH.format(text="what will fire, when"), "maintenance-actions.png")
        self.screenshot_of("//table[contains(@class, 'cm-timeline')]", "maintenance-timeline.png")
        # The sync's diff in the SSoT dashboard, and its job result as the Run button leaves it.
        self.visit(self.sync.get_absolute_url())
        self.wait_for_text("Diff")
        self.browser.find_element(By.XPATH, "//a[normalize-space(.)='Diff']").click()
        self.wait_for_text("123456")
        screenshot(self.browser, "ssot-sync-diff.png")
        self.check_page(self.sync.job_result.get_absolute_url(), "Completed", "sync-job-result.png")
        # Acknowledged on its page, with a comment; then several at once on the list.
        self.visit(windstream.get_absolute_url())
        self.wait_for_text("Needs attention")
        form = self.browser.find_element(By.XPATH, "//form[@method='post'][.//button[contains(., 'Acknowledge')]]")
        form.find_element(By.NAME, "comment").send_keys("Chicago DC1 fails over to the backup site")
        form.find_element(By.TAG_NAME, "button").click()
        self.wait_for_text(f"Acknowledged by {self.user.username}")
        self.check_page(windstream.get_absolute_url(), "Chicago DC1 fails over", "maintenance-acknowledged.png")
        self.check_page(reverse(f"{PREFIX}:circuitmaintenance_list"), "Chicago DC1")
        for maintenance in CircuitMaintenance.objects.needs_attention().order_by("start_time")[:2]:
            self.browser.find_element(By.CSS_SELECTOR, f"input[name=pk][value='{maintenance.pk}']").click()
        screenshot(self.browser, "maintenances-acknowledge-selected.png")

    def screenshot_of(self, xpath: str, image: str) -> None:
        """Scroll the element at `xpath` to the top of the window and take the page as `image`."""
        found = self.browser.find_element(By.XPATH, xpath)
        self.browser.execute_script("arguments[0].scrollIntoView({block: 'start'}); window.scrollBy(0, -80);", found)
        screenshot(self.browser, image)
