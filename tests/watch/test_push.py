"""Push and upload (issue 8): one raw message in, through the built-in "pushed" source.

Real parts: Django's test client against the app's REST endpoint with Nautobot tokens and object
permissions, the real sync job (processing now, or the next scheduled run), PostgreSQL.
"""

from __future__ import annotations

import html
import unittest

from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase
from nautobot.apps.testing import TransactionTestCase, run_job_for_testing
from nautobot.extras.choices import JobResultStatusChoices
from nautobot.extras.models import Job, JobResult
from nautobot.users.models import ObjectPermission, Token, User

from nautobot_ssot_circuit_maintenance.choices import MessageKeptChoices, OutcomeChoices
from nautobot_ssot_circuit_maintenance.compat.jobs import job_failure_text
from nautobot_ssot_circuit_maintenance.compat.releases import job_inputs
from nautobot_ssot_circuit_maintenance.config import PUSH_DISABLED
from nautobot_ssot_circuit_maintenance.intake.reprocess import cannot_reprocess
from nautobot_ssot_circuit_maintenance.intake.workers import close_parse_pools
from nautobot_ssot_circuit_maintenance.models import (
    CircuitMaintenance,
    NotificationSource,
    PushedMessage,
    RawNotification,
)
from tests.fixtures.hostile_mail import hostile_mail
from tests.fixtures.job_helpers import JobTestMixin, plugin_config
from tests.fixtures.sample_data import corpus_by_name, create_providers_and_circuits
from tests.intake.test_parse_workers import IN_A_VIRTUALENV, as_if_outside_the_virtualenv

MESSAGES = corpus_by_name()
PUSH_URL = "/api/plugins/circuit-maintenance/push/"
PUSH_ON = plugin_config([], push={"enable": True})
SESSION_PASSWORD = "cm-pusher-Pa55!"  # noqa: S105 - a test user's


def permit(user: User, *actions: str, model=PushedMessage) -> None:
    permission = ObjectPermission.objects.create(
        name=f"push {user.username} {'-'.join(actions)}", actions=list(actions)
    )
    permission.object_types.set([ContentType.objects.get_for_model(model)])
    permission.users.add(user)


def pushed_source() -> NotificationSource:
    return NotificationSource.objects.get(name="pushed")


@override_settings(PLUGINS_CONFIG=PUSH_ON)
class PushTestCase(JobTestMixin, TransactionTestCase):
    def setUp(self):
        super().setUp()
        self.pusher = User.objects.create_user(username="cm-pusher")
        permit(self.pusher, "add")
        self.token = Token.objects.create(user=self.pusher)
        self.nobody = User.objects.create_user(username="cm-nobody")
        self.nobody_token = Token.objects.create(user=self.nobody)
        self.providers = create_providers_and_circuits()
        # Processing now runs the sync job, which an operator enables like any job.
        Job.objects.filter(job_class_name="CircuitMaintenanceDataSource").update(enabled=True)

    def push(self, raw: bytes, *, token: Token | None = None, query: str = "", **extra):
        client = Client()
        headers = {"HTTP_AUTHORIZATION": f"Token {(token or self.token).key}"} if token is not False else {}
        return client.post(
            PUSH_URL + query,
            data=raw,
            content_type="message/rfc822",
            HTTP_ACCEPT="application/json",
            **headers,
            **extra,
        )

    def test_url_is_the_documented_one(self):
        self.assertEqual(reverse("plugins-api:nautobot_ssot_circuit_maintenance-api:push"), PUSH_URL)

    def test_no_token_is_refused(self):
        response = self.push(MESSAGES["zayo4"], token=False)
        self.assertEqual(response.status_code, 403)
        self.assertFalse(PushedMessage.objects.exists())

    def test_a_token_without_the_permission_is_refused(self):
        response = self.push(MESSAGES["zayo4"], token=self.nobody_token)
        self.assertEqual(response.status_code, 403)
        self.assertIn("add_pushedmessage", response.json()["detail"])
        # view is not add
        permit(self.nobody, "view")
        self.assertEqual(self.push(MESSAGES["zayo4"], token=self.nobody_token).status_code, 403)
        self.assertFalse(PushedMessage.objects.exists())

    def browser(self) -> Client:
        """The pusher's browser: a real login (a session cookie), CSRF checked as in production."""
        self.pusher.set_password(SESSION_PASSWORD)
        self.pusher.save()
        client = Client(enforce_csrf_checks=True)
        self.assertTrue(client.login(username="cm-pusher", password=SESSION_PASSWORD))
        return client

    def test_a_session_push_without_the_csrf_token_is_403_with_a_message(self):
        client = self.browser()
        # With no CSRF cookie, then with the cookie but no token; JSON whether or not JSON was asked for.
        for visit_first, accept in ((False, {"HTTP_ACCEPT": "application/json"}), (True, {})):
            if visit_first:
                client.get(reverse("plugins:nautobot_ssot_circuit_maintenance:rawnotification_upload"))
                self.assertIn("csrftoken", client.cookies)
            response = client.post(PUSH_URL, data=MESSAGES["zayo4"], content_type="message/rfc822", **accept)
            self.assertEqual(response.status_code, 403, response.content[:300])
            self.assertTrue(response["Content-Type"].startswith("application/json"), response["Content-Type"])
            detail = response.json()["detail"]
            self.assertIn("CSRF Failed", detail)
            self.assertIn("X-CSRFToken", detail)
            self.assertIn("Authorization: Token", detail)
        self.assertFalse(PushedMessage.objects.exists())

    def test_a_session_push_with_the_csrf_token_is_stored(self):
        client = self.browser()
        self.assertEqual(
            client.get(reverse("plugins:nautobot_ssot_circuit_maintenance:rawnotification_upload")).status_code, 200
        )
        response = client.post(
            PUSH_URL,
            data=MESSAGES["zayo4"],
            content_type="message/rfc822",
            HTTP_ACCEPT="application/json",
            HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
        )
        self.assertEqual(response.status_code, 202, response.content[:300])
        # The body was read whole, not consumed by the CSRF check: its Message-ID names it.
        self.assertTrue(response.json()["message_key"].startswith("mid:"), response.json())
        self.assertEqual(PushedMessage.objects.count(), 1)
        self.assertEqual(PushedMessage.objects.get().pushed_by, "cm-pusher")

    def test_disabled_push_answers_404(self):
        with override_settings(PLUGINS_CONFIG=plugin_config([])):
            response = self.push(MESSAGES["zayo4"])
        self.assertEqual(response.status_code, 404)
        self.assertIn("not enabled", response.json()["detail"])

    def test_upload_while_push_is_off_offers_nothing_and_says_one_thing(self):
        client = Client()
        client.force_login(self.pusher)
        permit(self.pusher, "view", model=RawNotification)
        url = reverse("plugins:nautobot_ssot_circuit_maintenance:rawnotification_upload")
        upload = SimpleUploadedFile("zayo4.eml", MESSAGES["zayo4"], content_type="message/rfc822")
        with override_settings(PLUGINS_CONFIG=plugin_config([])):
            listing = client.get(reverse("plugins:nautobot_ssot_circuit_maintenance:rawnotification_list"))
            page = client.get(url)
            posted = client.post(url, {"files": [upload], "process_now": "on"})
            pushed = self.push(MESSAGES["zayo4"])
        self.assertNotContains(listing, url)
        for response in (page, posted):
            self.assertEqual(response.status_code, 404)
            self.assertContains(response, html.escape(PUSH_DISABLED), status_code=404)
            self.assertNotContains(response, 'type="file"', status_code=404)
        self.assertEqual(pushed.json()["detail"], PUSH_DISABLED)
        self.assertFalse(PushedMessage.objects.exists())

    def test_over_the_size_limit_is_413(self):
        with override_settings(
            PLUGINS_CONFIG=plugin_config([], push={"enable": True}, message_limits={"max_message_mb": 0.1})
        ):
            big = MESSAGES["zayo4"] + b"x" * 110_000
            response = self.push(big)
            self.assertEqual(response.status_code, 413)
            self.assertIn("more than", response.json()["detail"])
            # A body whose Content-Length lies low is still cut at the limit.
            self.assertEqual(self.push(MESSAGES["zayo4"]).status_code, 202)
        self.assertEqual(PushedMessage.objects.count(), 1)

    def test_bad_process_parameter_is_400(self):
        response = self.push(MESSAGES["zayo4"], query="?process=yesterday")
        self.assertEqual(response.status_code, 400)
        self.assertEqual(self.push(b"", query="").status_code, 400)

    def test_queued_then_read_by_the_next_sync_once(self):
        response = self.push(MESSAGES["zayo4"])
        self.assertEqual(response.status_code, 202, response.content)
        body = response.json()
        self.assertEqual((body["created"], body["processing"], body["outcome"]), (True, "queued", None))
        self.assertTrue(body["message_key"].startswith("mid:"))

        duplicate = self.push(MESSAGES["zayo4"])
        self.assertEqual(duplicate.status_code, 200)
        self.assertEqual(duplicate.json()["message_key"], body["message_key"])
        self.assertEqual(PushedMessage.objects.count(), 1)

        with self.configured([], push={"enable": True}):
            result, _ = self.run_sync()
            self.assertEqual(result.status, "SUCCESS", self.job_log(result))
            raw = RawNotification.objects.get(message_key=body["message_key"])
            self.assertEqual(raw.source.name, "pushed")
            self.assertEqual(raw.outcome, OutcomeChoices.PARSED)
            self.assertEqual(CircuitMaintenance.objects.filter(provider=self.providers["zayo"]).count(), 1)
            # The next run reads nothing again: the cursor passed it.
            result, _ = self.run_sync()
            self.assertIn("Source pushed: 0 messages read", self.job_log(result))
        self.assertEqual(RawNotification.objects.count(), 1)

        # Pushed again after processing: 200 with what became of it, no second record; the next push
        # forgets the processed row.
        again = self.push(MESSAGES["zayo4"]).json()
        self.assertEqual(
            (again["created"], again["outcome"], again["raw_notification"]), (False, "parsed", str(raw.pk))
        )
        self.assertEqual(self.push(MESSAGES["zayo5"]).status_code, 202)
        self.assertEqual(
            list(PushedMessage.objects.values_list("message_key", flat=True)),
            [self.push(MESSAGES["zayo5"]).json()["message_key"]],
        )

    def test_process_now_gives_the_maintenance(self):
        response = self.push(MESSAGES["zayo4"], query="?process=now")
        self.assertEqual(response.status_code, 201, response.content)
        body = response.json()
        self.assertEqual((body["processing"], body["outcome"], body["provider"]), ("done", "parsed", "Zayo"))
        maintenance = CircuitMaintenance.objects.get(provider=self.providers["zayo"])
        self.assertEqual(body["maintenances"], [str(maintenance.pk)])
        self.assertEqual(NotificationSource.objects.get(name="pushed").source_type, "push")
        # A mail of no known provider is stored with its outcome, and changes nothing.
        stranger = b"From: someone@example.org\r\nSubject: hello\r\nMessage-ID: <x1@example.org>\r\n\r\nhi\r\n"
        body = self.push(stranger, query="?process=now").json()
        self.assertEqual((body["processing"], body["outcome"]), ("done", OutcomeChoices.UNKNOWN_PROVIDER))
        self.assertEqual(CircuitMaintenance.objects.count(), 1)

    def test_a_small_push_is_kept_whole_so_it_can_be_reprocessed_and_re_parsed(self):
        tiny = b"From: a@example.org\r\nMessage-ID: <t1@example.org>\r\nSubject: t\r\n\r\nhi\r\n"
        self.assertLess(len(tiny), 100)
        body = self.push(tiny, query="?process=now").json()
        self.assertEqual((body["processing"], body["outcome"]), ("done", OutcomeChoices.UNKNOWN_PROVIDER), body)
        self.assertEqual(body["message_kept"], MessageKeptChoices.WHOLE)
        zayo = self.push(MESSAGES["zayo4"], query="?process=now").json()
        self.assertEqual((zayo["outcome"], zayo["message_kept"]), ("parsed", MessageKeptChoices.WHOLE))
        pushed = {body["message_key"]: tiny, zayo["message_key"]: MESSAGES["zayo4"]}
        for raw in RawNotification.objects.filter(source__name="pushed"):
            self.assertEqual(raw.message_kept, MessageKeptChoices.WHOLE)
            self.assertEqual(raw.message_bytes(), pushed[raw.message_key])
            self.assertEqual(cannot_reprocess(raw), "")
        # The re-parse job takes pushed mail: none is skipped as cut.
        reparse = Job.objects.get(job_class_name="ReparseDataSource")
        reparse.enabled = True
        reparse.save()
        inputs = {"dryrun": False, "memory_profiling": False, "sources": [str(pushed_source().pk)]}
        with self.configured([], push={"enable": True}):
            result = run_job_for_testing(reparse, **job_inputs(run_job_for_testing, inputs))
        self.assertEqual(result.status, "SUCCESS", self.job_log(result))
        self.assertIn("Re-parsing 2 stored notifications (0 cannot be)", self.job_log(result))

    def test_process_now_with_the_sync_job_disabled_fails_and_says_why(self):
        Job.objects.filter(job_class_name="CircuitMaintenanceDataSource").update(enabled=False)
        response = self.push(MESSAGES["zayo4"], query="?process=now")
        self.assertEqual(response.status_code, 202, response.content)
        body = response.json()
        self.assertEqual((body["processing"], body["outcome"], body["job_result"]), ("failed", None, None))
        self.assertIn("not enabled", body["error"])
        self.assertEqual(PushedMessage.objects.count(), 1, "stored: the next enabled run reads it")
        self.assertFalse(JobResult.objects.exists())

    @unittest.skipUnless(IN_A_VIRTUALENV, "needs a virtualenv whose python links to a base interpreter")
    def test_process_now_when_parse_workers_cannot_start_fails_with_their_reason(self):
        close_parse_pools()  # workers already running would be used; new ones must start
        with as_if_outside_the_virtualenv():
            response = self.push(MESSAGES["zayo4"], query="?process=now")
        self.assertEqual(response.status_code, 202, response.content)
        body = response.json()
        self.assertEqual(body["processing"], "failed", body)
        self.assertIn("parse worker", body["error"])
        self.assertIn("exited at start", body["error"])
        self.assertIn("ModuleNotFoundError", body["error"])
        job_result = JobResult.objects.get(pk=body["job_result"])
        self.assertEqual((body["job_status"], job_result.status), ("FAILURE", "FAILURE"))
        self.assertIn("ModuleNotFoundError", job_failure_text(job_result))
        self.assertFalse(RawNotification.objects.exists())
        self.assertEqual(PushedMessage.objects.count(), 1, "still stored: the next run reads it")
        # Pushed again with process=now once workers can start: the waiting copy is processed (200: not new).
        again = self.push(MESSAGES["zayo4"], query="?process=now")
        self.assertEqual(again.status_code, 200, again.content)
        self.assertEqual((again.json()["processing"], again.json()["outcome"]), ("done", "parsed"))
        self.assertEqual(RawNotification.objects.filter(source__name="pushed").count(), 1)
        self.assertFalse(JobResult.objects.exclude(status__in=JobResultStatusChoices.READY_STATES).exists())

    def test_pinned_hostile_bodies_never_500(self):
        bodies = [
            b"\x00" * 1000,
            bytes(range(256)) * 50,
            b"no headers at all, just text",
            b"X-Long: " + b"a" * 600_000 + b"\r\n\r\nbody",
            b"From: =?utf-8?q?=FF=00?= <noc@zayo.com>\r\nMessage-ID: <\x00nul@x>\r\n\r\n\x00\xff",
            b"\r\n\r\n\r\n",
        ]
        for body in bodies:
            response = self.push(body)
            self.assertIn(response.status_code, (200, 202, 400), (body[:40], response.content[:300]))
        stored = PushedMessage.objects.count()
        self.assertGreaterEqual(stored, 4)
        # One processing run takes every waiting message; each gets an outcome, none a maintenance.
        last = self.push(b"Subject: last\r\n\r\nend", query="?process=now")
        self.assertEqual(last.status_code, 201, last.content)
        self.assertEqual(RawNotification.objects.filter(source__name="pushed").count(), stored + 1)
        self.assertEqual(CircuitMaintenance.objects.count(), 0)

    def test_upload_form(self):
        client = Client()
        client.force_login(self.nobody)
        url = reverse("plugins:nautobot_ssot_circuit_maintenance:rawnotification_upload")
        self.assertEqual(client.get(url).status_code, 403)

        client.force_login(self.pusher)
        permit(self.pusher, "view", model=RawNotification)
        page = client.get(url)
        self.assertEqual(page.status_code, 200)
        self.assertContains(page, 'type="file"')
        listing = client.get(reverse("plugins:nautobot_ssot_circuit_maintenance:rawnotification_list"))
        self.assertContains(listing, url)
        files = [
            SimpleUploadedFile("zayo4.eml", MESSAGES["zayo4"], content_type="message/rfc822"),
            SimpleUploadedFile("broken.eml", b"\x00\xff garbage", content_type="message/rfc822"),
        ]
        response = client.post(url, {"files": files, "process_now": "on"}, follow=True)
        self.assertEqual(response.status_code, 200)
        texts = [str(m) for m in response.context["messages"]]
        self.assertIn("zayo4.eml: parsed", texts)
        self.assertTrue(any(t.startswith("broken.eml: ") for t in texts), texts)
        self.assertEqual(RawNotification.objects.filter(source__name="pushed").count(), 2)
        self.assertEqual(CircuitMaintenance.objects.filter(provider=self.providers["zayo"]).count(), 1)
        # No file chosen: the form says so (400), nothing stored.
        self.assertEqual(client.post(url, {}).status_code, 400)


@override_settings(PLUGINS_CONFIG=PUSH_ON)
class PushHostileBodiesTestCase(HypothesisTestCase):
    """Generated hostile bodies through the real endpoint (stored; processing hostile mail is test_fuzz's)."""

    @classmethod
    def setUpTestData(cls):
        cls.user = User.objects.create_user(username="cm-fuzz-pusher")
        permit(cls.user, "add")
        cls.token = Token.objects.create(user=cls.user)

    def push(self, raw: bytes):
        return Client().post(
            PUSH_URL, data=raw, content_type="message/rfc822", HTTP_AUTHORIZATION=f"Token {self.token.key}"
        )

    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(mail=hostile_mail, token=st.integers(0, 10**9))
    def test_generated_hostile_bodies_never_500(self, mail, token):
        response = self.push(mail.render(f"h{token}"))
        self.assertIn(response.status_code, (200, 202, 400, 413), response.content[:300])
