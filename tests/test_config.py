"""Configuration validation and provider validation."""

import unittest

from django.core.exceptions import ValidationError
from nautobot.apps.testing import TestCase
from nautobot.circuits.models import Provider

from nautobot_ssot_circuit_maintenance import CircuitMaintenanceConfig
from nautobot_ssot_circuit_maintenance.config import ConfigurationError, validate_config
from nautobot_ssot_circuit_maintenance.intake.provision import ensure_custom_fields
from nautobot_ssot_circuit_maintenance.providers import EMAILS_FIELD, PARSER_FIELD, SenderDirectory

GOOD = {
    "raw_notification_initial_days_since": 30,
    "raw_notification_size": 16384,
    "notification_sources": [
        {"name": "NOC", "url": "imap://imap.example.net:993", "account": "noc@example.net", "secret": "pw"},
        {"name": "Folder", "url": "file:///var/mail/noc", "attach_all_providers": True},
    ],
}


class ConfigValidationTestCase(unittest.TestCase):
    def test_good_config(self):
        validate_config(GOOD)
        validate_config({})

    def assertFails(self, config, *fragments):
        with self.assertRaises(ConfigurationError) as caught:
            validate_config(config)
        for fragment in fragments:
            self.assertIn(fragment, str(caught.exception))
        return str(caught.exception)

    def test_missing_key_names_source_and_key(self):
        config = {"notification_sources": [{"name": "NOC", "url": "imap://imap.example.net", "account": "a"}]}
        self.assertFails(config, "'NOC'", "'secret'")

    def test_unknown_key(self):
        self.assertFails({"raw_notification_sizes": 1}, "unknown key", "raw_notification_sizes")
        config = {"notification_sources": [{**GOOD["notification_sources"][1], "pasword": "x"}]}
        self.assertFails(config, "'Folder'", "'pasword'")

    def test_wrong_type_and_url(self):
        self.assertFails({"raw_notification_size": "big"}, "raw_notification_size")
        self.assertFails({"notification_sources": [{"name": "X", "url": "pop3://host"}]}, "'X'", "url")

    def test_live_state_and_overview_settings(self):
        validate_config({"starting_soon_hours": 0.5, "dashboard_n_days": 7})
        self.assertFails({"starting_soon_hours": 0}, "starting_soon_hours")
        self.assertFails({"starting_soon_hours": "soon"}, "starting_soon_hours")
        self.assertFails({"starting_soon_hours": 10000}, "starting_soon_hours")
        self.assertFails({"dashboard_n_days": 0}, "dashboard_n_days")
        self.assertFails({"dashboard_n_days": 2.5}, "dashboard_n_days")

    def test_secret_never_echoed(self):
        config = {"notification_sources": [{**GOOD["notification_sources"][0], "secret": 12345678}]}
        message = self.assertFails(config, "'NOC'", "secret")
        self.assertNotIn("12345678", message)

    def test_alertmanager_settings(self):
        validate_config(
            {
                "alertmanager": {
                    "url": "https://am.example.net:9093",
                    "secrets_group": "AM",
                    "margin_minutes": {"before": 0, "after": 60},
                    "matchers": [
                        {"name": "device", "value": "{{ device.name }}"},
                        {"name": "ifName", "value": "{{ interface.name }}", "isRegex": False},
                        {"name": "job", "value": "snmp"},
                    ],
                    "created_by": "noc",
                }
            }
        )
        token = "am-t0ken-never-shown"  # noqa: S105 - a test value
        message = self.assertFails(
            {"alertmanager": {"url": "http://am", "token": token, "secrets_group": "AM"}}, "not both"
        )
        self.assertNotIn(token, message)
        message = self.assertFails(
            {"alertmanager": {"url": f"http://u:{token}@am", "token": token}}, "alertmanager.url"
        )
        self.assertNotIn(token, message)
        self.assertFails({"alertmanager": {"url": "http://am", "margin_minutes": {"before": -1}}}, "margin_minutes")
        self.assertFails({"alertmanager": {"url": "http://am", "matchers": [{"name": "a b", "value": "x"}]}}, "name")
        self.assertFails(
            {"alertmanager": {"url": "http://am", "matchers": [{"name": "d", "value": "{{ device.name "}]}},
            "alertmanager.matchers",
            "not valid Jinja2",
        )
        self.assertFails(
            {"alertmanager": {"url": "http://am", "matchers": [{"name": "d", "value": "{{ device }}{{ circuit }}"}]}},
            "names device and circuit",
        )

    def test_site_isolation_settings(self):
        validate_config(
            {"site_isolation": {"circuit_types": ["Internet"], "circuit_statuses": [], "skip_locations": ["Lab"]}}
        )
        self.assertFails(
            {"site_isolation": {"skip_location": ["Lab"]}}, "unknown key 'skip_location'", "site_isolation"
        )
        self.assertFails({"site_isolation": {"circuit_types": "Internet"}}, "site_isolation.circuit_types")
        self.assertFails({"site_isolation": {"skip_locations": [""]}}, "site_isolation.skip_locations")

    def test_customer_notice_settings(self):
        smtp = {"host": "smtp.example.net", "port": 587, "starttls": True, "secrets_group": "SMTP relay"}
        validate_config({"customer_notices": {"auto_draft": True, "from_address": "noc@example.net", "smtp": smtp}})
        self.assertFails({"customer_notices": {"auto_draf": True}}, "unknown key 'auto_draf'", "customer_notices")
        self.assertFails({"customer_notices": {"smtp": {**smtp, "port": 0}}}, "customer_notices.smtp.port")
        password = "Relay-Secret-4321"  # noqa: S105 - a test value
        message = self.assertFails(
            {"customer_notices": {"smtp": {**smtp, "password": password}}}, "'password' or 'secrets_group', not both"
        )
        self.assertNotIn(password, message)
        message = self.assertFails({"customer_notices": {"smtp": {"host": "h", "password": 12345678}}}, "password")
        self.assertNotIn("12345678", message)
        self.assertFails({"customer_notices": {"smtp": {"host": "h", "ssl": True, "starttls": True}}}, "not both")

    def test_duplicate_names(self):
        sources = [GOOD["notification_sources"][1], GOOD["notification_sources"][1]]
        self.assertFails({"notification_sources": sources}, "'Folder'", "more than once")

    def test_app_config_raises_improperly_configured(self):
        from nautobot.extras.plugins.exceptions import PluginImproperlyConfigured

        with self.assertRaises(PluginImproperlyConfigured):
            CircuitMaintenanceConfig.validate({"notification_sources": [{"name": "x"}]}, "3.2.7")


class SenderDirectoryTestCase(unittest.TestCase):
    def test_exact_then_domain(self):
        directory = SenderDirectory(
            [(1, "Zayo", {EMAILS_FIELD: "mr@zayo.com"}), (2, "Other", {EMAILS_FIELD: "@zayo.com, x@y.org"})]
        )
        self.assertEqual(directory.lookup("MR Zayo <MR@zayo.com>").name, "Zayo")
        self.assertEqual(directory.lookup("someone@zayo.com").name, "Other")
        self.assertIsNone(directory.lookup("someone@notzayo.com"))
        self.assertIsNone(directory.lookup(None))


class ProviderValidationTestCase(TestCase):
    def setUp(self):
        super().setUp()
        ensure_custom_fields()

    def test_address_belongs_to_one_provider(self):
        first = Provider(name="First")
        first._custom_field_data[EMAILS_FIELD] = "noc@carrier.example"
        first.validated_save()
        second = Provider(name="Second")
        second._custom_field_data[EMAILS_FIELD] = "other@x.example, NOC@carrier.example"
        with self.assertRaises(ValidationError) as caught:
            second.validated_save()
        self.assertIn("First", str(caught.exception))

    def test_parser_must_be_known(self):
        provider = Provider(name="Carrier")
        provider._custom_field_data[PARSER_FIELD] = "no-such-parser"
        with self.assertRaises(ValidationError):
            provider.validated_save()
        provider._custom_field_data[PARSER_FIELD] = "lumen"
        provider.validated_save()


class SourcesFromConfigTestCase(TestCase):
    def test_one_record_per_source_with_its_kind_whatever_the_host_length(self):
        from django.conf import settings
        from django.test import override_settings

        from nautobot_ssot_circuit_maintenance.config import APP_NAME
        from nautobot_ssot_circuit_maintenance.intake.provision import sync_sources_from_config
        from nautobot_ssot_circuit_maintenance.models import NotificationSource

        sources = [
            {"name": "Gmail IMAP", "url": "imap://imap.gmail.com:993", "account": "a", "secret": "pw"},
            {
                "name": "Corp",
                "url": "imaps://imap.mail.example-company-with-a-long-name.com",
                "account": "a",
                "secret": "pw",
            },
            {"name": "Folder", "url": "file:///var/mail/noc"},
            {
                "name": "Gmail API",
                "url": "https://accounts.google.com/o/oauth2/auth",
                "account": "a",
                "credentials_file": "/k.json",
            },
        ]
        config = {**settings.PLUGINS_CONFIG, APP_NAME: {**GOOD, "notification_sources": sources}}
        with override_settings(PLUGINS_CONFIG=config):
            sync_sources_from_config()
            sync_sources_from_config()  # idempotent
        self.assertEqual(
            dict(NotificationSource.objects.values_list("name", "source_type")),
            {"Gmail IMAP": "imap", "Corp": "imaps", "Folder": "file", "Gmail API": "gmail"},
        )
