"""The Location and Device pages in a real browser: the isolation flags and the maintenances reaching them."""

from __future__ import annotations

from django.urls import reverse
from selenium.webdriver.common.by import By

from nautobot_ssot_circuit_maintenance.flags.store import refresh_flags
from tests.fixtures.browser import BrowserTestCase
from tests.fixtures.location_data import build_site_data

CARD = "contains(concat(' ', normalize-space(@class), ' '), ' card ')"
PANEL = "//div[" + CARD + "][.//*[contains(translate(normalize-space(.), '{upper}', '{lower}'), '{text}')]]"


def card_with(text: str) -> str:
    """XPath of the innermost card whose text contains `text` (case-insensitive: Nautobot title-cases headings)."""
    upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return PANEL.format(upper=upper, lower=upper.lower(), text=text.lower()) + "[not(.//div[" + CARD + "])]"


class LocationPanelBrowserTest(BrowserTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.data = build_site_data()
        refresh_flags()
        self.login()

    def test_location_page_shows_flags_and_maintenances_with_history_link(self):
        d = self.data
        self.visit(d.par.get_absolute_url())
        self.wait_for_text("Site work M2")
        flags = self.browser.find_element(By.XPATH, card_with("isolation and lost redundancy"))
        text = flags.text
        self.assertIn("Isolation", text)
        self.assertIn("2 of 2: PA, PB", text)
        self.assertIn("Lost redundancy", text)
        maintenances = self.browser.find_element(By.XPATH, card_with("active and upcoming circuit maintenances"))
        for expected in ("Site work M1", "Site work M2", "LOC Provider A", "LOC Provider B", "A: CM PAR1"):
            self.assertIn(expected, maintenances.text)
        self.assertNotIn("Site work M3", maintenances.text)  # LON1's circuit

        self.browser.set_window_size(1400, 1200)
        self.browser.execute_script("arguments[0].scrollIntoView({block: 'start'});", flags)
        self.browser.execute_script("window.scrollBy(0, -80);")

        # History: the panel's link opens the maintenance list filtered by the location.
        link = maintenances.find_element(By.XPATH, f".//a[contains(@href, '?location={d.par.pk}')]")
        self.browser.get(link.get_attribute("href"))
        self.wait_for_text("Site work M1", "table")
        self.assertIn("Site work M2", self.text_of("table"))
        self.assertNotIn("Site work M3", self.text_of("table"))
        self.assert_no_alert()

    def test_maintenance_page_shows_where_and_what_it_cuts_off(self):
        d = self.data
        self.visit(d.maintenances["M1"].get_absolute_url())
        self.wait_for_text("par-r1")
        circuits = self.browser.find_element(By.XPATH, card_with("what hangs on them"))
        for expected in ("A: CM PAR1", "Z: CM NYC1", "par-r1 › eth0", "lon-r1 › eth0", "LOC Tenant X"):
            self.assertIn(expected, circuits.text)
        self.browser.set_window_size(1400, 1400)
        self.browser.execute_script("arguments[0].scrollIntoView({block: 'start'});", circuits)
        self.browser.execute_script("window.scrollBy(0, -80);")
        self.assertIn("Cut off", self.text_of())
        self.assert_no_alert()
        self.visit(reverse("plugins:nautobot_ssot_circuit_maintenance:circuitmaintenance_list"))
        self.wait_for_text("Site work M1", "table")
