"""The send, against a real SMTP server on loopback: approval first, each recipient once, every answer kept.

The server (tests/servers/smtp.py, aiosmtpd) keeps what it accepted and refuses the addresses it is told to, as a
real relay does; each test reads back what it received, with the iCalendar attached read by `icalendar`.
"""

from __future__ import annotations

import secrets
import threading

import icalendar
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import override_settings
from nautobot.apps.testing import TestCase, TransactionTestCase, run_job_for_testing
from nautobot.extras.choices import ApprovalWorkflowStateChoices
from nautobot.extras.models import (
    ApprovalWorkflowDefinition,
    ApprovalWorkflowStageDefinition,
    ApprovalWorkflowStageResponse,
    Job,
)

from nautobot_ssot_circuit_maintenance.choices import NoticeStateChoices, RecipientStateChoices
from nautobot_ssot_circuit_maintenance.compat.releases import job_inputs
from nautobot_ssot_circuit_maintenance.customers.approval import ApprovalRefused, approve, request_approval, resend
from nautobot_ssot_circuit_maintenance.customers.drafts import draft_notices
from nautobot_ssot_circuit_maintenance.customers.send import claim_next, send_notice
from nautobot_ssot_circuit_maintenance.models import CustomerNotice, CustomerNoticeRecipient
from tests.fixtures.concurrency import run_at_once
from tests.fixtures.customer_data import build_customer_data
from tests.fixtures.job_helpers import JobTestMixin, plugin_config
from tests.fixtures.location_data import build_site_data
from tests.intake.sources.test_secrets_group import SecretsGroupMixin
from tests.servers.ports import LOOPBACK
from tests.servers.smtp import SmtpServer

SENDER = "noc@operator.example"


def notices_config(port: int, **extra) -> dict:
    return plugin_config(
        [], customer_notices={"from_address": SENDER, "smtp": {"host": LOOPBACK, "port": port}, **extra}
    )


class SmtpMixin:
    """A real SMTP server for the class, configured as the app's relay; data, contacts and drafts for each test."""

    @classmethod
    def setUpClass(cls):
        cls.smtp = SmtpServer().__enter__()
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.smtp.__exit__(None, None, None)

    def setUp(self):
        super().setUp()
        self.smtp.clear()
        self.smtp.refused.clear()
        settings = override_settings(PLUGINS_CONFIG=notices_config(self.smtp.port))
        settings.enable()
        self.addCleanup(settings.disable)
        self.data = build_site_data()
        build_customer_data(self.data.tenants)
        self.user = get_user_model().objects.create(username="approver")
        draft_notices()
        self.x_notice = CustomerNotice.objects.get(tenant=self.data.tenants["X"])
        self.y_notice = CustomerNotice.objects.get(tenant=self.data.tenants["Y"])

    def approved(self, notice: CustomerNotice) -> CustomerNotice:
        return approve(notice, self.user)

    def states(self, notice: CustomerNotice) -> dict[str, tuple[str, str]]:
        return {r.address: (r.state, r.answer) for r in CustomerNoticeRecipient.objects.filter(notice=notice)}


class SendTests(SmtpMixin, JobTestMixin, TestCase):
    def test_nothing_leaves_before_a_person_approved_it(self):
        outcome = send_notice(self.y_notice.pk)
        self.assertIsNone(outcome.notice)
        self.assertEqual(self.smtp.messages, [])
        self.assertEqual(CustomerNotice.objects.get(pk=self.y_notice.pk).state, NoticeStateChoices.DRAFT)

    def test_each_recipient_gets_the_notice_with_its_calendar(self):
        self.approved(self.y_notice)
        send_notice(self.y_notice.pk)
        self.assertEqual(sorted(m.recipients[0] for m in self.smtp.messages), ["carol@y.example", "dan@y.example"])
        (delivered,) = self.smtp.delivered_to("carol@y.example")
        self.assertEqual(delivered.sender, SENDER)
        self.assertEqual(delivered.message["Subject"], self.y_notice.subject)
        self.assertEqual(delivered.message["To"], "carol@y.example")  # never the other recipients
        self.assertEqual(delivered.text.replace("\r\n", "\n").strip(), self.y_notice.body.strip())
        ((name, content_type, payload),) = delivered.attachments()
        self.assertEqual((name, content_type), ("maintenance.ics", "text/calendar"))
        (event,) = icalendar.Calendar.from_ical(payload).walk("VEVENT")
        self.assertEqual(event["X-MAINTNOTE-MAINTENANCE-ID"], self.data.maintenances["M3"].maintenance_id)
        self.assertEqual(str(event["X-MAINTNOTE-OBJECT-ID"]), "LC")
        notice = CustomerNotice.objects.get(pk=self.y_notice.pk)
        self.assertEqual(notice.state, NoticeStateChoices.SENT)
        self.assertIsNotNone(notice.sent_at)
        self.assertEqual({state for state, _ in self.states(notice).values()}, {RecipientStateChoices.SENT})
        row = notice.recipients.get(address="carol@y.example")
        self.assertEqual(delivered.message["Message-ID"], row.message_id)

    def test_a_refusal_is_stored_with_the_servers_answer_and_the_others_are_sent(self):
        self.smtp.refuse("dan@y.example", "550 5.1.1 <dan@y.example>: Recipient address rejected")
        self.approved(self.y_notice)
        send_notice(self.y_notice.pk)
        states = self.states(self.y_notice)
        self.assertEqual(states["carol@y.example"][0], RecipientStateChoices.SENT)
        self.assertEqual(
            states["dan@y.example"],
            (RecipientStateChoices.REFUSED, "550 5.1.1 <dan@y.example>: Recipient address rejected"),
        )
        self.assertEqual(CustomerNotice.objects.get(pk=self.y_notice.pk).state, NoticeStateChoices.SENT)
        # Resent on request, once the address is fixed on the other side: only the refused one goes again.
        self.smtp.refused.clear()
        self.assertEqual(resend(self.y_notice, self.user), 1)
        send_notice(self.y_notice.pk)
        self.assertEqual(len(self.smtp.delivered_to("dan@y.example")), 1)
        self.assertEqual(len(self.smtp.delivered_to("carol@y.example")), 1)

    def test_a_retry_sends_nothing_twice(self):
        self.approved(self.y_notice)
        send_notice(self.y_notice.pk)
        CustomerNotice.objects.filter(pk=self.y_notice.pk).update(state=NoticeStateChoices.SENDING)
        send_notice(self.y_notice.pk)
        self.assertEqual(len(self.smtp.messages), 2)

    def test_the_send_job_on_the_worker(self):
        self.approved(self.x_notice)
        job = Job.objects.get(job_class_name="SendCustomerNotices")
        job.enabled = True
        job.save()
        result = run_job_for_testing(job, **job_inputs(run_job_for_testing, {}))
        self.assertEqual(result.status, "SUCCESS", result.traceback)
        self.assertEqual([m.recipients for m in self.smtp.messages], [["alice@x.example"]])

    def test_a_relay_that_does_not_answer_claims_nothing(self):
        self.approved(self.x_notice)
        with override_settings(PLUGINS_CONFIG=notices_config(1)):
            from nautobot_ssot_circuit_maintenance.customers.send import SendFailed

            with self.assertRaises(SendFailed):
                send_notice(self.x_notice.pk)
        self.assertEqual(self.states(self.x_notice)["alice@x.example"][0], RecipientStateChoices.PENDING)
        send_notice(self.x_notice.pk)
        self.assertEqual(len(self.smtp.messages), 1)


class ApprovalTests(SmtpMixin, JobTestMixin, TestCase):
    def test_approval_needs_recipients(self):
        self.x_notice.recipients.all().delete()
        with self.assertRaises(ApprovalRefused):
            self.approved(self.x_notice)

    def test_an_approval_workflow_decides_where_one_is_defined(self):
        definition = ApprovalWorkflowDefinition.objects.create(
            name="Customer notices", model_content_type=ContentType.objects.get_for_model(CustomerNotice)
        )
        approvers = Group.objects.create(name="NOC leads")
        approvers.user_set.add(self.user)
        ApprovalWorkflowStageDefinition.objects.create(
            approval_workflow_definition=definition, sequence=1, name="Lead", min_approvers=1, approver_group=approvers
        )
        with self.assertRaises(ApprovalRefused):
            self.approved(self.x_notice)  # the workflow decides, not the app's permission
        workflow = request_approval(self.x_notice)
        self.assertEqual(CustomerNotice.objects.get(pk=self.x_notice.pk).state, NoticeStateChoices.AWAITING_APPROVAL)
        send_notice(self.x_notice.pk)
        self.assertEqual(self.smtp.messages, [])
        ApprovalWorkflowStageResponse.objects.create(
            approval_workflow_stage=workflow.approval_workflow_stages.get(),
            user=self.user,
            state=ApprovalWorkflowStateChoices.APPROVED,
        )
        notice = CustomerNotice.objects.get(pk=self.x_notice.pk)
        self.assertEqual((notice.state, notice.approved_by), (NoticeStateChoices.APPROVED, self.user))
        send_notice(self.x_notice.pk)
        self.assertEqual(len(self.smtp.messages), 1)


class TwoWorkersTests(SmtpMixin, JobTestMixin, TransactionTestCase):
    def test_two_workers_at_once_send_each_recipient_once(self):
        self.approved(self.y_notice)
        results, errors = run_at_once(lambda: send_notice(self.y_notice.pk))
        self.assertEqual(errors, [])
        self.assertEqual(sorted(m.recipients[0] for m in self.smtp.messages), ["carol@y.example", "dan@y.example"])
        self.assertEqual(CustomerNotice.objects.get(pk=self.y_notice.pk).state, NoticeStateChoices.SENT)

    def test_a_worker_killed_mid_send_never_sends_that_recipient_again_by_itself(self):
        self.approved(self.y_notice)
        send_notice_started = CustomerNotice.objects.filter(pk=self.y_notice.pk)
        send_notice_started.update(state=NoticeStateChoices.SENDING)

        def killed_worker():
            claim_next(self.y_notice)  # claimed, then the process dies before it records anything
            connection.close()

        thread = threading.Thread(target=killed_worker)
        thread.start()
        thread.join()
        send_notice(self.y_notice.pk)  # the retry
        states = self.states(self.y_notice)
        self.assertEqual(states["carol@y.example"][0], RecipientStateChoices.UNKNOWN)
        self.assertEqual(states["dan@y.example"][0], RecipientStateChoices.SENT)
        self.assertEqual([m.recipients for m in self.smtp.messages], [["dan@y.example"]])
        send_notice(self.y_notice.pk)
        self.assertEqual(len(self.smtp.messages), 1)
        # A person resends it.
        resend(self.y_notice, self.user, ["carol@y.example"])
        send_notice(self.y_notice.pk)
        self.assertEqual(len(self.smtp.delivered_to("carol@y.example")), 1)


RELAY_USER = "relay-user"
RELAY_PASSWORD = "Relay-Pa55/w+rd=&%" + secrets.token_hex(4)


class RelayCredentialsTests(SecretsGroupMixin, JobTestMixin, TransactionTestCase):
    """The relay's user and password from a Secrets Group, read when the send starts; the password never shown."""

    @classmethod
    def setUpClass(cls):
        cls.smtp = SmtpServer(credentials=(RELAY_USER, RELAY_PASSWORD)).__enter__()
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.smtp.__exit__(None, None, None)

    def setUp(self):
        super().setUp()
        data = build_site_data()
        build_customer_data(data.tenants)
        draft_notices()
        self.notice = CustomerNotice.objects.get(tenant=data.tenants["X"])
        approve(self.notice, get_user_model().objects.create(username="approver"))
        self.job = Job.objects.get(job_class_name="SendCustomerNotices")
        self.job.enabled = True
        self.job.save()

    def configure(self, password: str) -> None:
        self.group(
            "SMTP relay",
            (self.env_secret("relay-user", RELAY_USER), "Generic", "username"),
            (self.env_secret("relay-password", password), "Generic", "password"),
        )
        smtp = {"host": LOOPBACK, "port": self.smtp.port, "secrets_group": "SMTP relay"}
        settings = override_settings(PLUGINS_CONFIG=plugin_config([], customer_notices={"smtp": smtp}))
        settings.enable()
        self.addCleanup(settings.disable)

    def run_send(self):
        return run_job_for_testing(self.job, **job_inputs(run_job_for_testing, {}))

    def test_the_relay_login_comes_from_the_secrets_group(self):
        self.configure(RELAY_PASSWORD)
        result = self.run_send()
        self.assertEqual(result.status, "SUCCESS", result.traceback)
        self.assertEqual(self.smtp.logins, [RELAY_USER])
        self.assertEqual([m.recipients for m in self.smtp.messages], [["alice@x.example"]])
        log = self.job_log(result)
        self.assertIn("@x.example: sent", log)  # Nautobot redacts the part before an @ in job logs
        self.assertNotIn(RELAY_PASSWORD, log)

    def test_a_wrong_password_sends_nothing_and_is_never_shown(self):
        self.configure("not-" + RELAY_PASSWORD)
        result = self.run_send()
        self.assertEqual(result.status, "FAILURE")
        log = self.job_log(result) + str(result.traceback) + str(result.result)
        self.assertIn("SMTPAuthenticationError", log)
        self.assertNotIn(RELAY_PASSWORD, log)
        self.assertEqual(self.smtp.messages, [])
        self.assertEqual(self.notice.recipients.get().state, RecipientStateChoices.PENDING)  # the next run retries
