"""The calendar, the overview and the subscribe page in headless Chromium (docs' screenshots: test_demo_pages)."""

from __future__ import annotations

from datetime import datetime, timezone

from django.urls import reverse
from selenium.webdriver.common.by import By

from tests.fixtures.browser import BrowserTestCase
from tests.fixtures.live_data import build_live_data

PREFIX = "plugins:nautobot_ssot_circuit_maintenance"


class CalendarBrowserTest(BrowserTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.now = datetime.now(timezone.utc)
        self.data = build_live_data(self.now)
        self.login()

    def test_month_week_list_and_click_through(self):
        self.visit(reverse(f"{PREFIX}:calendar"))
        self.wait_for_text(self.now.strftime("%B %Y"), "#cm-calendar-title")
        grid = self.browser.find_element(By.ID, "cm-calendar-grid")
        running = grid.find_elements(By.CSS_SELECTOR, 'a.cm-event[data-live-state="in-progress"]')
        self.assertTrue(running, "the running maintenance is on the month grid")
        # Coloured by live state: the running one in the "danger" colour, which Chromium paints red.
        colour = running[0].value_of_css_property("background-color")
        red, green, blue = (int(float(x)) for x in colour[colour.index("(") + 1 : colour.index(")")].split(",")[:3])
        self.assertGreater(red, green + 60, colour)

        self.browser.find_element(By.LINK_TEXT, "Week").click()
        self.wait_for_text("Week", "#cm-calendar-title")
        cancelled_or_not = self.browser.find_elements(By.CSS_SELECTOR, "a.cm-event.cm-cancelled")
        for element in cancelled_or_not:
            self.assertIn("line-through", element.value_of_css_property("text-decoration"))

        self.browser.find_element(By.LINK_TEXT, "List").click()
        self.wait_for_text("Live state", "#cm-calendar-list")
        struck = self.browser.find_elements(By.CSS_SELECTOR, "#cm-calendar-list tr.cm-cancelled td")
        if struck:
            self.assertIn("line-through", struck[0].value_of_css_property("text-decoration"))

        # Click through to the record.
        self.visit(reverse(f"{PREFIX}:calendar") + "?view=week")
        self.wait_for_text("Week", "#cm-calendar-title")
        self.browser.find_element(By.CSS_SELECTOR, 'a.cm-event[data-live-state="in-progress"]').click()
        self.wait_for_text("IN-PROGRESS")
        self.assertIn("Live state", self.text_of())
        self.assertIn("In progress", self.text_of())
        self.assert_no_alert()

    def test_filters_in_the_form(self):
        self.visit(reverse(f"{PREFIX}:calendar") + "?view=list&status=IN-PROCESS")
        self.wait_for_text("Live state", "#cm-calendar-list")
        rows = self.browser.find_elements(By.CSS_SELECTOR, "#cm-calendar-list tbody tr")
        self.assertEqual([row.find_element(By.CSS_SELECTOR, "a").text for row in rows], ["overrunning"])
        self.assertIn("Overrunning", rows[0].text)

    def test_overview_and_subscribe(self):
        self.visit(reverse(f"{PREFIX}:overview"))
        self.wait_for_text("in-progress", "#cm-overview-active")
        self.assertIn("overrunning", self.text_of("#cm-overview-active"))
        self.assertIn("starting-soon", self.text_of("#cm-overview-upcoming"))
        self.browser.find_element(By.LINK_TEXT, "Subscribe").click()
        self.wait_for_text("Subscribe to this address")
        url = self.browser.find_element(By.ID, "cm-feed-url").text
        self.assertRegex(url, r"/calendar/feed/[A-Za-z0-9_-]{40,}\.ics$")
