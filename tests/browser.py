"""A headless Chromium (Debian's chromium and chromium-driver) against Django's live test server."""

from __future__ import annotations

import shutil

from django.contrib.staticfiles.testing import StaticLiveServerTestCase
from django.urls import reverse
from nautobot.core.testing import NautobotTestCaseMixin
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
WAIT_SECONDS = 20
# A list page's table: `#object_table` on Nautobot 3.2; 3.0 gives it no id (it sits in the bulk-action form).
LIST_TABLE = "#object_table, #object_list_form table"


def start_chromium() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.add_argument("--window-size=1400,1000")
    return webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))


class BrowserTestCase(NautobotTestCaseMixin, StaticLiveServerTestCase):
    """One browser per test class; each test logs in through Nautobot's login form."""

    databases = ("default", "job_logs")
    password = "browser-test-password"

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.browser = start_chromium()
        cls.browser.implicitly_wait(0)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.browser.quit()
        super().tearDownClass()

    def setUp(self) -> None:
        super().setUp()
        self.setUpNautobot(client=False, populate_status=True)
        self.user.is_superuser = True
        self.user.set_password(self.password)
        self.user.save()
        self.browser.delete_all_cookies()

    def visit(self, path: str) -> None:
        self.browser.get(f"{self.live_server_url}{path}")

    def login(self) -> None:
        self.visit(reverse("login"))
        self.browser.find_element(By.NAME, "username").send_keys(self.user.username)
        self.browser.find_element(By.NAME, "password").send_keys(self.password)
        self.browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        self.wait_for_text(self.user.username)

    def wait_for_text(self, text: str, css: str = "body") -> None:
        """Wait until `text` is visible inside the first element matching `css` (tables arrive through HTMX)."""
        WebDriverWait(self.browser, WAIT_SECONDS).until(
            expected_conditions.text_to_be_present_in_element((By.CSS_SELECTOR, css), text),
            message=f"{text!r} never appeared in {css}",
        )

    def text_of(self, css: str = "body") -> str:
        return self.browser.find_element(By.CSS_SELECTOR, css).text

    def assert_no_alert(self) -> None:
        try:
            WebDriverWait(self.browser, 1).until(expected_conditions.alert_is_present())
        except TimeoutException:
            return
        text = self.browser.switch_to.alert.text
        self.browser.switch_to.alert.dismiss()
        self.fail(f"a script from the data ran in the page (alert {text!r})")
