"""Push and upload through real web servers (issue 18): "process now" on a threaded server and on uWSGI.

Real parts: Django's live test server (threaded: every request runs in a thread of its own, never the
main one), and `nautobot-server start` (uWSGI, from this virtualenv, where `sys.executable` is the
base interpreter rather than the venv's python) in a subprocess on the test database; HTTP over
loopback with `requests`; the real sync job and parse workers; PostgreSQL.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from pathlib import Path

import requests
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import LiveServerTestCase, override_settings
from django.urls import reverse
from nautobot.apps.testing import TransactionTestCase
from nautobot.core.testing import NautobotTestCaseMixin
from nautobot.extras.choices import JobResultStatusChoices
from nautobot.extras.jobs import run_job
from nautobot.extras.models import Job, JobResult
from nautobot.users.models import ObjectPermission, Token, User

from nautobot_ssot_circuit_maintenance.choices import MessageKeptChoices, OutcomeChoices
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance, PushedMessage, RawNotification
from nautobot_ssot_circuit_maintenance.providers import EMAILS_FIELD
from tests.fixtures.celery_worker import ServerProcess, settings_with_sources
from tests.fixtures.job_helpers import JobTestMixin, plugin_config
from tests.fixtures.sample_data import corpus_by_name, create_providers_and_circuits
from tests.servers.ports import free_port

MESSAGES = corpus_by_name()
PUSH_URL = "/api/plugins/circuit-maintenance/push/"
PUSH_ON = plugin_config([], push={"enable": True})
PREFIX = "plugins:nautobot_ssot_circuit_maintenance"
HTTP_TIMEOUT = 300
# A Zayo notice from an address no provider lists yet: stored as unknown-provider, so it waits in triage.
RELAYED_FROM = b"maintenance@zayo-relay.example"
RELAYED_ZAYO = (
    MESSAGES["zayo4"]
    .replace(b"From: MR Zayo <mr@zayo.com>", b"From: MR Zayo <" + RELAYED_FROM + b">")
    .replace(b"Message-ID: <", b"Message-ID: <relayed-")
)
TINY = b"From: a@example.org\r\nMessage-ID: <tiny@example.org>\r\nSubject: t\r\n\r\nhi\r\n"


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    if match is None:
        raise AssertionError("no CSRF token in the page")
    return match.group(1)


class PushServerChecks:
    """What every supported server must do; `base_url` is the server's."""

    base_url: str

    def set_up_push(self) -> None:
        # Triage's Reprocess queues its run through Celery, which the test settings run eagerly, in the
        # request; an eager run records its end on its JobResult only when asked to (a worker always does).
        # (Celery reads `task_store_eager_result` into the task once, when it binds it.)
        stored = run_job.store_eager_result
        run_job.store_eager_result = True
        self.addCleanup(setattr, run_job, "store_eager_result", stored)
        self.providers = create_providers_and_circuits()
        self.pusher = User.objects.create_user(username="cm-server-pusher")
        permission = ObjectPermission.objects.create(name="push via servers", actions=["add"])
        permission.object_types.set([ContentType.objects.get_for_model(PushedMessage)])
        permission.users.add(self.pusher)
        self.token = Token.objects.create(user=self.pusher)
        Job.objects.filter(job_class_name="CircuitMaintenanceDataSource").update(enabled=True)

    def push(self, raw: bytes, query: str = "?process=now") -> requests.Response:
        return requests.post(
            self.base_url + PUSH_URL + query,
            data=raw,
            headers={
                "Authorization": f"Token {self.token.key}",
                "Content-Type": "message/rfc822",
                "Accept": "application/json",
            },
            timeout=HTTP_TIMEOUT,
        )

    def assert_no_job_result_unfinished(self) -> None:
        unfinished = JobResult.objects.exclude(status__in=JobResultStatusChoices.READY_STATES)
        self.assertFalse(unfinished.exists(), list(unfinished.values_list("name", "status")))

    def assert_processed_now(self, raw: bytes, outcome: str) -> dict:
        """Push with process=now: 201, processed, with its outcome; stored whole; its run finished."""
        response = self.push(raw)
        self.assertEqual(response.status_code, 201, response.text[:2000])
        body = response.json()
        self.assertEqual((body["processing"], body["outcome"]), ("done", outcome), body)
        self.assertEqual(body["message_kept"], MessageKeptChoices.WHOLE)
        stored = RawNotification.objects.get(pk=body["raw_notification"])
        self.assertEqual((stored.outcome, stored.message_kept), (outcome, MessageKeptChoices.WHOLE))
        self.assertEqual(stored.message_bytes(), raw)
        run = JobResult.objects.get(pk=body["job_result"])
        self.assertEqual((run.status, body["job_status"]), ("SUCCESS", "SUCCESS"), run.result)
        self.assertEqual(run.user, self.pusher)
        self.assert_no_job_result_unfinished()
        return body

    def assign_relay_address_to_zayo(self) -> None:
        zayo = self.providers["zayo"]
        zayo._custom_field_data[EMAILS_FIELD] += f", {RELAYED_FROM.decode()}"
        zayo.validated_save()


@override_settings(PLUGINS_CONFIG=PUSH_ON)
class ThreadedServerTestCase(PushServerChecks, JobTestMixin, NautobotTestCaseMixin, LiveServerTestCase):
    """Django's live server: a threaded WSGI server, as runserver and gunicorn with threads are."""

    databases = ("default", "job_logs")
    password = "threaded-server-password"  # noqa: S105 - a test user's

    @property
    def base_url(self) -> str:
        return self.live_server_url

    def setUp(self) -> None:
        super().setUp()
        self.setUpNautobot(client=False, populate_status=True)
        self.set_up_push()
        self.admin = User.objects.create_user(username="cm-server-admin", is_superuser=True, is_staff=True)
        self.browser = requests.Session()

    def log_in(self) -> None:
        """A browser's session (Nautobot's login form) on the live server."""
        self.admin.set_password(self.password)
        self.admin.save()
        login = self.live_server_url + reverse("login")
        page = self.browser.get(login, timeout=HTTP_TIMEOUT)
        answer = self.browser.post(
            login,
            data={
                "csrfmiddlewaretoken": csrf_token(page.text),
                "username": self.admin.username,
                "password": self.password,
            },
            headers={"Referer": login},
            timeout=HTTP_TIMEOUT,
        )
        self.assertEqual(answer.status_code, 200)
        self.assertIn("sessionid", self.browser.cookies)

    def post_form(self, path: str, data: dict, files: list | None = None) -> requests.Response:
        """Submit the form at `path` as a browser does; the answer (a redirect is not followed)."""
        url = self.live_server_url + path
        page = self.browser.get(url, timeout=HTTP_TIMEOUT)
        self.assertEqual(page.status_code, 200, page.text[:2000])
        return self.browser.post(
            url,
            data={"csrfmiddlewaretoken": csrf_token(page.text), **data},
            files=files,
            headers={"Referer": url},
            timeout=HTTP_TIMEOUT,
            allow_redirects=False,
        )

    def test_process_now_answers_with_the_outcome_and_reprocess_works(self):
        self.assert_processed_now(MESSAGES["zayo4"], OutcomeChoices.PARSED)
        self.assertEqual(CircuitMaintenance.objects.filter(provider=self.providers["zayo"]).count(), 1)
        self.assert_processed_now(TINY, OutcomeChoices.UNKNOWN_PROVIDER)
        relayed = self.assert_processed_now(RELAYED_ZAYO, OutcomeChoices.UNKNOWN_PROVIDER)

        # Triage: its sender is now Zayo's; Reprocess (through the same server) parses the whole stored message.
        self.assign_relay_address_to_zayo()
        self.log_in()
        response = self.post_form(reverse(f"{PREFIX}:triage_reprocess", args=[relayed["raw_notification"]]), {})
        self.assertEqual(response.status_code, 302, response.text[:2000])
        location = response.headers["Location"]
        self.assertRegex(location, r"/job-results/[0-9a-f-]+/$", "redirected to the reprocess run")
        run = JobResult.objects.get(pk=location.rstrip("/").rsplit("/", 1)[1])
        self.assertEqual(run.status, JobResultStatusChoices.STATUS_SUCCESS, run.result)
        raw = RawNotification.objects.get(pk=relayed["raw_notification"])
        self.assertEqual(raw.outcome, OutcomeChoices.PARSED, raw.error)
        self.assertEqual(raw.provider, self.providers["zayo"])
        self.assertEqual(raw.parsed_notifications.count(), 1)
        self.assert_no_job_result_unfinished()

    def test_upload_form_processes_now_by_default(self):
        self.log_in()
        url = reverse(f"{PREFIX}:rawnotification_upload")
        response = self.post_form(
            url,
            {"process_now": "on"},
            files=[
                ("files", ("zayo4.eml", MESSAGES["zayo4"], "message/rfc822")),
                ("files", ("tiny.eml", TINY, "message/rfc822")),
            ],
        )
        self.assertEqual(response.status_code, 302, response.text[:2000])
        # The list page shows the messages with its table, which it loads through HTMX.
        table = self.browser.get(
            self.live_server_url + response.headers["Location"], headers={"HX-Request": "true"}, timeout=HTTP_TIMEOUT
        )
        self.assertIn("zayo4.eml: parsed", table.text)
        self.assertIn(f"tiny.eml: {OutcomeChoices.UNKNOWN_PROVIDER}", table.text)
        self.assertNotIn("signal only works", table.text)
        kept = set(RawNotification.objects.filter(source__name="pushed").values_list("message_kept", flat=True))
        self.assertEqual(kept, {MessageKeptChoices.WHOLE})
        self.assertEqual(CircuitMaintenance.objects.filter(provider=self.providers["zayo"]).count(), 1)
        self.assert_no_job_result_unfinished()


class UwsgiServerTestCase(PushServerChecks, JobTestMixin, TransactionTestCase):
    """`nautobot-server start` (uWSGI) from this virtualenv, on the test database: one server for the class.

    The server reads committed data only, hence a TransactionTestCase; it runs with Nautobot's own
    settings for a server (no eager Celery), so it runs the job in process exactly as production does.
    """

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.directory = Path(tempfile.mkdtemp(prefix="cm-uwsgi-"))
        port = free_port()
        cls.base_url = f"http://127.0.0.1:{port}"
        settings = settings_with_sources(cls.directory, [], push={"enable": True})
        # As Nautobot's documented uwsgi.ini runs it: a master (Nautobot's WSGI module needs one), threads.
        arguments = ["start", "--http", f"127.0.0.1:{port}", "--master", "--processes", "1", "--threads", "2"]
        arguments.append("--die-on-term")
        cls.server = ServerProcess(
            arguments,
            settings,
            cls.directory / "uwsgi.log",
            env={"NAUTOBOT_DB_NAME": connection.settings_dict["NAME"]},  # this test database
        )
        try:
            cls.server.wait_for("WSGI app 0 (mountpoint='') ready")
            cls.wait_until_answering()
        except BaseException:
            cls.server.stop()
            raise

    @classmethod
    def wait_until_answering(cls) -> None:
        deadline = time.monotonic() + 120
        while True:
            try:
                requests.get(cls.base_url + "/health/", timeout=30)
                return
            except requests.ConnectionError:
                if time.monotonic() > deadline or cls.server.process.poll() is not None:
                    raise RuntimeError(f"uWSGI does not answer; its log ends:\n{cls.server.tail()}") from None
                time.sleep(0.2)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.server.stop()
        shutil.rmtree(cls.directory, ignore_errors=True)
        super().tearDownClass()

    def setUp(self) -> None:
        super().setUp()
        self.set_up_push()

    def test_process_now_answers_with_the_outcome_and_reprocess_works(self):
        self.assert_processed_now(MESSAGES["zayo4"], OutcomeChoices.PARSED)
        self.assertEqual(CircuitMaintenance.objects.filter(provider=self.providers["zayo"]).count(), 1)
        relayed = self.assert_processed_now(RELAYED_ZAYO, OutcomeChoices.UNKNOWN_PROVIDER)
        tiny = self.push(TINY, query="").json()
        self.assertEqual((tiny["processing"], tiny["job_result"]), ("queued", None), tiny)
        self.assertIn("next sync", tiny["reason"])
        duplicate = self.push(MESSAGES["zayo4"])
        self.assertEqual(duplicate.status_code, 200)
        self.assertEqual(duplicate.json()["processing"], "done")

        # The stored message is whole, so triage's Reprocess parses it once its sender is Zayo's.
        self.assign_relay_address_to_zayo()
        admin = User.objects.create_user(username="cm-uwsgi-admin", is_superuser=True)
        self.client.force_login(admin)
        response = self.client.post(reverse(f"{PREFIX}:triage_reprocess", args=[relayed["raw_notification"]]))
        self.assertEqual(response.status_code, 302, response.content[:2000])
        run = JobResult.objects.get(pk=response.url.rstrip("/").rsplit("/", 1)[1])
        self.assertEqual(run.status, JobResultStatusChoices.STATUS_SUCCESS, run.result)
        raw = RawNotification.objects.get(pk=relayed["raw_notification"])
        self.assertEqual((raw.outcome, raw.provider), (OutcomeChoices.PARSED, self.providers["zayo"]), raw.error)
        self.assert_no_job_result_unfinished()
