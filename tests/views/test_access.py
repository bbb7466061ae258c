"""Access matrix: every URL of the app (UI and REST, found from the urlpatterns) x four kinds of user.

Users: anonymous, logged in without permission, view-only (ObjectPermission "view" on the app's
models), and change (view, add, change, delete). Every page is requested with GET, the actions with
POST; each answer must be the expected one, and none a 500. Then CSRF: an administrator's browser
session (a real login, Django's CSRF checks on) that POSTs without the token gets 403 with a page that
says why, on every UI URL, and nothing changes; with the token the same POST works.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, reverse
from nautobot.apps.testing import TestCase
from nautobot.tenancy.models import Tenant
from nautobot.users.models import ObjectPermission
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request

from nautobot_ssot_circuit_maintenance import urls as ui_urls
from nautobot_ssot_circuit_maintenance.api import urls as api_urls
from nautobot_ssot_circuit_maintenance.choices import FlagKindChoices
from nautobot_ssot_circuit_maintenance.compat.responses import csrf_failure_reason
from nautobot_ssot_circuit_maintenance.models import (
    ActionRule,
    CircuitAlias,
    CircuitImpact,
    CircuitMaintenance,
    CustomerNotice,
    CustomerNoticeTemplate,
    MaintenanceFlag,
    MaintenanceNote,
    NoticeTemplate,
    NotificationSource,
    ParsedNotification,
    PushedMessage,
    RawNotification,
    TenantNoticeSettings,
)
from tests.fixtures import velox_mail
from tests.fixtures.site_data import basics, location
from tests.fixtures.ui_data import build_ui_data

MODELS = (
    CircuitMaintenance,
    CircuitImpact,
    MaintenanceNote,
    NotificationSource,
    RawNotification,
    ParsedNotification,
    CircuitAlias,
    MaintenanceFlag,
    PushedMessage,
    NoticeTemplate,
    CustomerNotice,
    CustomerNoticeTemplate,
    TenantNoticeSettings,
    ActionRule,
)
VIEW_ACTIONS = {
    *("list", "", "changelog", "notes", "data-compliance", "detail", "calendar", "api-root"),
    *("eml", "attachment"),  # a raw notification's downloads
    *("overview", "calendar_subscribe"),
    "export",  # a notice template's JSON download
    *("export_mail", "triage_export_mail"),  # stored mail as a zip (raw notifications, triage): view suffices
}
# POST-only: a notice template tried unsaved (UI), a template file imported (REST).
POST_ONLY = {"try", "try_new", "import-template"}
ACKNOWLEDGE_ACTIONS = {"acknowledge", "acknowledge_selected", "unacknowledge", "unacknowledge_selected"}
DOCS = {"docs", "docs_page", "docs_image"}
POST_ACTIONS = {"validate", *ACKNOWLEDGE_ACTIONS}
# A person's decisions (decisions/): a form page each in the UI (only `change` may act; include and confirm only
# where the notification is excluded / awaits confirmation, which the test data's is not), POST-only in the API,
# where a bare (form-encoded) POST is refused for its media type or as a bad request (no reason), or does what it
# says (include).
DECISIONS = {"exclude": {400, 415}, "include": {200}, "confirm": {400, 415}, "override": {400, 415}}
# Triage actions (GET shows the form): the permissions each needs beyond the app's own models.
TRIAGE_FORMS = {
    "triage_dismiss": (),
    "triage_assign_sender": ("circuits.change_provider",),
    "triage_map_circuit": (),
    "triage_reprocess": ("extras.run_job",),
}
# A customer notice's actions (POST only), each under a permission of its own that neither test user has, except
# Request approval (change); in the API any logged-in user reaches the action, which then says 405 to a GET.
NOTICE_ACTIONS = {"approve": "approve", "resend": "send", "request_approval": "change", "request-approval": "change"}
PREFIX = "plugins:nautobot_ssot_circuit_maintenance"
USERS = ("anonymous", "no permission", "view", "change")


def patterns(resolver_patterns: list, prefix: str) -> list[tuple[str, str]]:
    """(URL name, route regex) of every named pattern, format-suffix variants left out."""
    found = []
    for pattern in resolver_patterns:
        if isinstance(pattern, URLResolver):
            found += patterns(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern) and pattern.name and "format" not in str(pattern.pattern):
            found.append((pattern.name, prefix + str(pattern.pattern)))
    return found


def fill(route: str, pk: Any) -> str:
    path = re.sub(r"\(\?P<pk>[^)]*\)", str(pk), route)
    path = re.sub(r"<(uuid:)?pk>", str(pk), path)
    path = path.replace("<int:index>", "0")
    path = re.sub(r"\(\?P<key>[^)]*\)", "not-a-feed-token", path)
    path = path.replace("<str:page>", "triage").replace("<path:name>", "triage-queue.png")  # the documentation's
    return "/" + path.replace("^", "").replace("$", "").replace("\\", "")


def action_of(name: str) -> str:
    """`circuitmaintenance_bulk_edit` → `bulk_edit`; `circuitmaintenance-list` → `list`; detail → ``."""
    for model in sorted(MODELS, key=lambda m: -len(m._meta.model_name)):
        for base in (model._meta.model_name, "notificationsource", "circuitmaintenance"):
            for separator in ("_", "-"):
                if name.startswith(base + separator):
                    return name[len(base) + 1 :]
            if name == base:
                return ""
    return name


def model_of(name: str, route: str) -> type | None:
    for model in sorted(MODELS, key=lambda m: -len(m._meta.model_name)):
        if name.startswith(model._meta.model_name):
            return model
    return None


def customer_notice_records(maintenance: CircuitMaintenance) -> tuple[Any, Any, Any]:
    """A draft notice about the maintenance (with one recipient), a template and a tenant's notice settings."""
    tenant = Tenant.objects.create(name="CM Access tenant")
    notice = CustomerNotice.objects.create(
        tenant=tenant,
        start_time=maintenance.start_time,
        end_time=maintenance.end_time,
        subject="Planned maintenance",
        body="Dear customer",
    )
    notice.maintenances.add(maintenance)
    notice.recipients.create(address="noc@access.example")
    template = CustomerNoticeTemplate.objects.create(name="CM Access", subject="s", body="b")
    settings = TenantNoticeSettings.objects.create(tenant=tenant, recipients=["noc@access.example"])
    return notice, template, settings


class AccessMatrixTest(TestCase):
    """Expected answers by user, for a page that only reads, a page that writes, and the Validate action."""

    @classmethod
    def setUpTestData(cls) -> None:
        cls.data = build_ui_data()
        cls.alias = CircuitAlias.objects.create(
            provider=cls.data.providers[0], alias="ghost-1", circuit=cls.data.circuits[0]
        )
        cls.template = velox_mail.save_template(cls.data.providers[0])
        cls.rule = ActionRule.objects.create(name="Access rule", kind="job")
        maintenance = cls.data.maintenances[0]
        cls.flag = MaintenanceFlag.objects.create(
            kind=FlagKindChoices.ISOLATION,
            location=location(basics(), "CM Access"),
            start_time=maintenance.start_time,
            end_time=maintenance.end_time,
            total=1,
        )
        cls.flag.maintenances.add(maintenance)
        cls.notice, cls.notice_template, cls.notice_settings = customer_notice_records(maintenance)
        user_model = get_user_model()
        cls.users = {
            "no permission": user_model.objects.create_user(username="cm-nobody"),
            "view": user_model.objects.create_user(username="cm-viewer"),
            "change": user_model.objects.create_user(username="cm-changer"),
        }
        types = [ContentType.objects.get_for_model(model) for model in MODELS]
        for user_name, actions in (("view", ["view"]), ("change", ["view", "add", "change", "delete"])):
            permission = ObjectPermission.objects.create(name=f"cm {user_name}", actions=actions)
            permission.object_types.set(types)
            permission.users.add(cls.users[user_name])

    def client_for(self, user: str) -> Client:
        client = Client()
        if user != "anonymous":
            client.force_login(self.users[user])
        return client

    def expected(self, api: bool, action: str, method: str, user: str) -> set[int]:
        if action == "calendar_feed":
            return {404}  # the key in the URL is the credential, whoever asks: an unknown one is not found
        if action == "calendar_feed_by_credential":
            return {401}  # the token in a header or parameter, whoever asks: without one, 401
        if user == "anonymous":
            return {403} if api else {302}  # UI: to the login page
        if action == "api-root":
            return {200}  # the list of the app's endpoints, as for every Nautobot app
        if action in NOTICE_ACTIONS:
            if api:
                return {405}
            return {405} if user == "change" and NOTICE_ACTIONS[action] == "change" else {403}
        if action in DOCS:
            return {200}  # the user documentation: any user logged in may read it
        if action == "push":
            # POST only, with add_pushedmessage (the "change" user has it): a GET is 405 for it, 403 for others.
            return {405} if user == "change" else {403}
        if action == "oauth2callback":
            return {302}  # a callback without a valid state goes back to the list with a message
        if action in ("job", "parsednotification"):
            return {302}  # the older app's addresses redirect to the pages that replaced them
        if action in DECISIONS:
            if user != "change":
                return {403, 404} if api and user == "no permission" else {403}
            if api:
                return DECISIONS[action]
            return {200} if action in ("exclude", "override") else {404}
        if action in POST_ONLY:
            return {403, 404} if api and user == "no permission" else {405}
        if action == "triage_list":
            return {200} if user in ("view", "change") else {403}
        if action in TRIAGE_FORMS:
            # Only `change` may act, and only where no permission outside the app's models is needed.
            return {200} if user == "change" and not TRIAGE_FORMS[action] else {403}
        if action in ACKNOWLEDGE_ACTIONS and user == "change":
            return {302}  # back to the page (or list) with a message
        if action in ("changelog", "notes") and user in ("view", "change"):
            return {403}  # Nautobot also asks for extras.view_objectchange / extras.view_note, not given here
        if action in ("bulk_edit", "bulk_delete") and user != "no permission":
            return {403}  # bulk pages answer a POST of selected rows; a bare GET is refused
        if action == "attachment" and user in ("view", "change"):
            return {404}  # the raw notification of the test data has no attachment 0
        if action == "upload" and user == "change":
            return {404}  # push is off in the tests' settings: the page only says how to turn it on
        if action == "bulk_rename" and user == "change":
            return {302}  # nothing selected: back to the list
        reads = method == "GET" and (action in VIEW_ACTIONS or api)
        if user == "no permission" or (user == "view" and not reads):
            return {403, 404} if action == "validate" or not reads or api else {403}
        if action in POST_ACTIONS:
            return {302}  # the answer is a message on the source's page
        return {200}

    def test_matrix(self) -> None:
        pks = {
            CircuitMaintenance: self.data.maintenances[0].pk,
            CircuitImpact: self.data.impacts[0].pk,
            MaintenanceNote: self.data.notes[0].pk,
            NotificationSource: self.data.sources[2].pk,
            RawNotification: self.data.raw_notifications[0].pk,
            ParsedNotification: self.data.parsed_notifications[0].pk,
            CircuitAlias: self.alias.pk,
            MaintenanceFlag: self.flag.pk,
            NoticeTemplate: self.template.pk,
            CustomerNotice: self.notice.pk,
            CustomerNoticeTemplate: self.notice_template.pk,
            TenantNoticeSettings: self.notice_settings.pk,
            ActionRule: self.rule.pk,
        }
        urls = [(False, name, route) for name, route in patterns(ui_urls.urlpatterns, "plugins/circuit-maintenance/")]
        urls += [
            (True, name, route) for name, route in patterns(api_urls.urlpatterns, "api/plugins/circuit-maintenance/")
        ]
        self.assertGreater(len(urls), 30)
        failures, requests = [], 0
        for user in USERS:
            client = self.client_for(user)
            for api, name, route in urls:
                model = model_of(name, route)
                path = fill(route, pks.get(model, ""))
                action = "oauth2callback" if "oauth2callback" in name else action_of(name)
                if name.startswith("triage_"):
                    path = fill(route, self.data.raw_notifications[2].pk)  # unknown provider: in the queue
                    action = name
                if name in ("circuitmaintenance_job", "parsednotification"):
                    action = name.removeprefix("circuitmaintenance_")
                    path = fill(route, self.data.parsed_notifications[0].pk)
                methods = ["POST"] if action in POST_ACTIONS or (api and action in DECISIONS) else ["GET"]
                for method in methods:
                    requests += 1
                    with transaction.atomic():
                        response = getattr(client, method.lower())(path)
                        transaction.set_rollback(True)
                    expected = self.expected(api, action, method, user)
                    if response.status_code >= 500 or response.status_code not in expected:
                        failures.append(
                            f"{user:13} {method:4} {path} ({name}): {response.status_code}, expected {expected}"
                        )
        sys.stderr.write(f"\naccess matrix: {len(urls)} URLs x {len(USERS)} users = {requests} requests\n")
        self.assertEqual(failures, [], "\n" + "\n".join(failures))


class CsrfRefusalTest(TestCase):
    """A session POST without the CSRF token: 403 and a page with the reason, never a 404; nothing changes."""

    PASSWORD = "cm-admin-Pa55!"  # noqa: S105 - a test user's

    @classmethod
    def setUpTestData(cls) -> None:
        cls.data = build_ui_data()
        cls.alias = CircuitAlias.objects.create(
            provider=cls.data.providers[0], alias="ghost-2", circuit=cls.data.circuits[0]
        )
        cls.template = velox_mail.save_template(cls.data.providers[0])
        cls.notice, cls.notice_template, cls.notice_settings = customer_notice_records(cls.data.maintenances[0])
        cls.rule = ActionRule.objects.create(name="Access rule", kind="job")
        cls.admin = get_user_model().objects.create_user(
            username="cm-admin", password=cls.PASSWORD, is_superuser=True, is_staff=True
        )

    def browser(self) -> Client:
        """A client as a browser: logged in through the login form's backend, CSRF checked like in production."""
        client = Client(enforce_csrf_checks=True)
        self.assertTrue(client.login(username="cm-admin", password=self.PASSWORD))
        return client

    def ui_paths(self) -> list[tuple[str, str]]:
        pks = {
            CircuitMaintenance: self.data.maintenances[0].pk,
            CircuitImpact: self.data.impacts[0].pk,
            MaintenanceNote: self.data.notes[0].pk,
            NotificationSource: self.data.sources[2].pk,
            RawNotification: self.data.raw_notifications[0].pk,
            CircuitAlias: self.alias.pk,
            NoticeTemplate: self.template.pk,
            CustomerNotice: self.notice.pk,
            CustomerNoticeTemplate: self.notice_template.pk,
            TenantNoticeSettings: self.notice_settings.pk,
            ActionRule: self.rule.pk,
        }
        paths = []
        for name, route in patterns(ui_urls.urlpatterns, "plugins/circuit-maintenance/"):
            pk = pks.get(model_of(name, route), "")
            if name.startswith("triage_") or name == "parsednotification":
                pk = self.data.raw_notifications[2].pk
            paths.append((name, fill(route, pk)))
        return paths

    def assertCsrfPage(self, response, where: str) -> None:
        self.assertEqual(response.status_code, 403, f"{where}: {response.status_code}")
        self.assertTrue(response["Content-Type"].startswith("text/html"), where)
        body = response.content.decode()
        self.assertIn("CSRF", body, where)
        self.assertTrue("CSRF cookie not set" in body or "CSRF token missing" in body, where)

    def test_every_ui_post_without_the_token_is_refused_with_a_reason(self) -> None:
        client = self.browser()
        failures = []
        for name, path in self.ui_paths():
            with transaction.atomic():
                response = client.post(path, {"pk": [str(self.data.maintenances[0].pk)], "_apply": "1"})
                transaction.set_rollback(True)
            if response.status_code == 405:
                continue  # a route that takes no POST says so first
            try:
                self.assertCsrfPage(response, f"{name} {path}")
            except AssertionError as error:
                failures.append(str(error))
        self.assertEqual(failures, [], "\n" + "\n".join(failures))

    def test_the_actions_refused_change_nothing_and_work_with_the_token(self) -> None:
        maintenance = self.data.maintenances[0]
        CircuitMaintenance.objects.filter(pk=maintenance.pk).update(ack=False, acknowledged_by=None)
        source = self.data.sources[2]
        actions = {
            "acknowledge": reverse(f"{PREFIX}:circuitmaintenance_acknowledge", kwargs={"pk": maintenance.pk}),
            "edit": reverse(f"{PREFIX}:circuitmaintenance_edit", kwargs={"pk": maintenance.pk}),
            "validate": reverse(f"{PREFIX}:notificationsource_validate", kwargs={"pk": source.pk}),
        }
        client = self.browser()
        # A page first, so the browser holds the CSRF cookie: then only the token in the form is missing.
        self.assertEqual(client.get(maintenance.get_absolute_url()).status_code, 200)
        self.assertIn("csrftoken", client.cookies)
        for action, path in actions.items():
            with self.subTest(action):
                response = client.post(path, {"name": "renamed by a forged form", "ack": "on"})
                self.assertCsrfPage(response, action)
                self.assertIn("CSRF token missing", response.content.decode())
        maintenance.refresh_from_db()
        self.assertFalse(maintenance.ack)
        self.assertNotEqual(maintenance.name, "renamed by a forged form")
        # The same click from the page (with its token) is done.
        token = client.cookies["csrftoken"].value
        response = client.post(actions["acknowledge"], {"csrfmiddlewaretoken": token})
        self.assertEqual(response.status_code, 302)
        maintenance.refresh_from_db()
        self.assertTrue(maintenance.ack)
        self.assertEqual(maintenance.acknowledged_by, self.admin)

    def test_drf_names_a_csrf_refusal_as_the_app_expects(self) -> None:
        """compat.csrf_failure_reason reads DRF's message: pinned here against the installed DRF."""
        request = RequestFactory().post("/x/", {})
        request.user = self.admin
        request._dont_enforce_csrf_checks = False
        with self.assertRaises(PermissionDenied) as caught:
            SessionAuthentication().enforce_csrf(Request(request))
        self.assertEqual(csrf_failure_reason(caught.exception), "CSRF cookie not set.")
        self.assertIsNone(csrf_failure_reason(PermissionDenied("You may not.")))
