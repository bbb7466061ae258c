"""Telling people: a rule's e-mail through apprise to a real SMTP server on loopback, read back with its recipients
and text; a refused recipient retried; and the daily digest job."""

from __future__ import annotations

from django.test import override_settings
from nautobot.apps.testing import TransactionTestCase

from nautobot_ssot_circuit_maintenance.choices import ActionRunStatusChoices, LiveStateChoices
from nautobot_ssot_circuit_maintenance.models import ActionRun
from nautobot_ssot_circuit_maintenance.views.timeline import timeline_rows
from tests.actions.helpers import H, destination, message_rule, move, now, run_job
from tests.fixtures.job_helpers import JobTestMixin, plugin_config
from tests.fixtures.location_data import build_site_data
from tests.servers.smtp import SmtpServer

BODY = """{{ maintenance.label }} ({{ maintenance.provider.name }} {{ maintenance.maintenance_id }}) {{ occasion }}.
Circuits: {% for i in reach.impacts %}{{ i.circuit.cid }} ({{ i.get_impact_display() }}) {% endfor %}
Devices: {{ reach.devices|join(", ", attribute="name") }}"""


class SmtpMixin:
    """A real SMTP server for each test."""

    def setUp(self):
        super().setUp()
        self.smtp = SmtpServer().__enter__()
        self.addCleanup(self.smtp.__exit__)
        self.data = build_site_data()
        self.m1 = self.data.maintenances["M1"]


class EmailRuleTestCase(SmtpMixin, JobTestMixin, TransactionTestCase):
    """A rule that e-mails the NOC when a maintenance starts (apprise `mailto://`)."""

    def setUp(self):
        super().setUp()
        url = f"mailto://localhost:{self.smtp.port}?from=nautobot@example.net&to=noc@example.net&mode=insecure"
        self.rule = message_rule(
            "E-mail the NOC",
            destination("NOC mail", url),
            subject_template="Started: {{ maintenance.label }}",
            body_template=BODY,
            transitions=[LiveStateChoices.IN_PROGRESS],
            providers=[self.m1.provider],
        )

    def test_the_email_is_delivered_once_with_its_recipients_and_text(self):
        move(self.m1, now() - H, now() + 3 * H)
        run_job(self, "RunMaintenanceActions")
        run_job(self, "RunMaintenanceActions")
        (mail,) = self.smtp.delivered_to("noc@example.net")
        self.assertEqual(mail.sender, "nautobot@example.net")
        self.assertEqual(mail.message["Subject"], "Started: Site work M1")
        self.assertIn("Site work M1 (LOC Provider A LOC-M1) entered in progress.", mail.text)
        self.assertIn("Circuits: LA (Outage) PA (Outage)", mail.text)
        self.assertIn("Devices: lon-r1, par-r1", mail.text)

    def test_a_refused_recipient_is_retried_and_the_failure_shows_on_the_timeline(self):
        self.smtp.refuse("noc@example.net", "550 5.1.1 No such user")
        move(self.m1, now() - H, now() + 3 * H)
        run_job(self, "RunMaintenanceActions", expect="FAILURE")
        self.assertEqual(self.smtp.messages, [])
        (run,) = ActionRun.objects.filter(rule=self.rule)
        self.assertEqual((run.status, run.attempts), (ActionRunStatusChoices.RETRYING, 1))
        self.assertIn("Not delivered", run.result)
        self.assertNotIn("noc@example.net", run.result)  # part of the destination URL, a secret
        (row,) = [row for row in timeline_rows(self.m1) if row.event.startswith("E-mail the NOC")]
        self.assertIn("Not delivered", row.reason)

        self.smtp.refused.clear()
        ActionRun.objects.filter(pk=run.pk).update(next_attempt=run.last_attempt)  # the backoff has passed
        run_job(self, "RunMaintenanceActions")
        self.assertEqual(len(self.smtp.delivered_to("noc@example.net")), 1)
        run.refresh_from_db()
        self.assertEqual((run.status, run.attempts), (ActionRunStatusChoices.SUCCEEDED, 2))


class DigestTestCase(SmtpMixin, JobTestMixin, TransactionTestCase):
    """The "Send maintenance digest" job, through Django's mail to the loopback server."""

    def setUp(self):
        super().setUp()
        mail = override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=self.smtp.port,
            EMAIL_USE_TLS=False,
            EMAIL_USE_SSL=False,
            DEFAULT_FROM_EMAIL="nautobot@example.net",
        )
        mail.enable()
        self.addCleanup(mail.disable)

    def test_the_digest_lists_the_maintenances_of_the_next_days_with_what_they_affect(self):
        run_job(self, "SendMaintenanceDigest", days=7, recipients="noc@example.net, oncall@example.net")
        (mail,) = self.smtp.messages
        self.assertEqual(sorted(mail.recipients), ["noc@example.net", "oncall@example.net"])
        self.assertEqual(mail.message["Subject"], "Circuit maintenances in the next 7 day(s): 3")
        text = mail.text
        for expected in (
            "* Site work M1 — LOC Provider A LOC-M1",
            "Circuits: LA (Outage), PA (Outage)",
            "Sites: CM LON1, CM NYC1, CM PAR1",
            "Devices: lon-r1, par-r1",
            "Tenants: LOC Tenant X",
            "* Site work M3 — LOC Provider C LOC-M3",
            "Circuits: LC (Degraded)",
        ):
            self.assertIn(expected, text)
        self.assertNotIn("LOC-M4", text)  # cancelled
        self.assertLess(text.index("LOC-M1"), text.index("LOC-M2"))  # soonest first

        run_job(self, "SendMaintenanceDigest", days=1, recipients="noc@example.net")
        self.assertEqual(self.smtp.messages[-1].message["Subject"], "Circuit maintenances in the next 1 day(s): 0")

    def test_recipients_from_the_settings_and_a_clear_failure_without_any(self):
        result = run_job(self, "SendMaintenanceDigest", expect="FAILURE", days=7)
        self.assertIn("No recipients", result.traceback)
        with override_settings(PLUGINS_CONFIG=plugin_config([], digest={"recipients": ["noc@example.net"]})):
            run_job(self, "SendMaintenanceDigest", days=7)
        self.assertEqual(len(self.smtp.delivered_to("noc@example.net")), 1)

    def test_a_refused_recipient_fails_the_job_with_what_the_server_said(self):
        self.smtp.refuse("noc@example.net", "550 5.1.1 No such user")
        result = run_job(self, "SendMaintenanceDigest", expect="FAILURE", days=7, recipients="noc@example.net")
        self.assertIn("No such user", result.traceback)
