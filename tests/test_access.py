"""Access matrix: every URL of the app (UI and REST, found from the urlpatterns) x four kinds of user.

Users: anonymous, logged in without permission, view-only (ObjectPermission "view" on the app's
models), and change (view, add, change, delete). Every page is requested with GET, the actions with
POST; each answer must be the expected one, and none a 500.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver
from nautobot.apps.testing import TestCase
from nautobot.users.models import ObjectPermission

from nautobot_ssot_circuit_maintenance import urls as ui_urls
from nautobot_ssot_circuit_maintenance.api import urls as api_urls
from nautobot_ssot_circuit_maintenance.models import (
    CircuitAlias,
    CircuitImpact,
    CircuitMaintenance,
    MaintenanceNote,
    NotificationSource,
    ParsedNotification,
    PushedMessage,
    RawNotification,
)
from tests.ui_data import build_ui_data

MODELS = (
    CircuitMaintenance,
    CircuitImpact,
    MaintenanceNote,
    NotificationSource,
    RawNotification,
    ParsedNotification,
    CircuitAlias,
    PushedMessage,
)
VIEW_ACTIONS = {
    *("list", "", "changelog", "notes", "data-compliance", "detail", "calendar", "api-root"),
    *("eml", "attachment"),  # a raw notification's downloads
    *("overview", "calendar_subscribe"),
}
POST_ACTIONS = {"validate", "acknowledge", "acknowledge_selected"}
# Triage actions (GET shows the form): the permissions each needs beyond the app's own models.
TRIAGE_FORMS = {
    "triage_dismiss": (),
    "triage_assign_sender": ("circuits.change_provider",),
    "triage_map_circuit": (),
    "triage_reprocess": ("extras.run_job",),
}
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


class AccessMatrixTest(TestCase):
    """Expected answers by user, for a page that only reads, a page that writes, and the Validate action."""

    @classmethod
    def setUpTestData(cls) -> None:
        cls.data = build_ui_data()
        cls.alias = CircuitAlias.objects.create(
            provider=cls.data.providers[0], alias="ghost-1", circuit=cls.data.circuits[0]
        )
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
        if user == "anonymous":
            return {403} if api else {302}  # UI: to the login page
        if action == "api-root":
            return {200}  # the list of the app's endpoints, as for every Nautobot app
        if action == "push":
            # POST only, with add_pushedmessage (the "change" user has it): a GET is 405 for it, 403 for others.
            return {405} if user == "change" else {403}
        if action == "oauth2callback":
            return {302}  # a callback without a valid state goes back to the list with a message
        if action in ("job", "parsednotification"):
            return {302}  # the older app's addresses redirect to the pages that replaced them
        if action == "triage_list":
            return {200} if user in ("view", "change") else {403}
        if action in TRIAGE_FORMS:
            # Only `change` may act, and only where no permission outside the app's models is needed.
            return {200} if user == "change" and not TRIAGE_FORMS[action] else {403}
        if action in ("acknowledge", "acknowledge_selected") and user == "change":
            return {302}  # back to the page (or list) with a message
        if action in ("changelog", "notes") and user in ("view", "change"):
            return {403}  # Nautobot also asks for extras.view_objectchange / extras.view_note, not given here
        if action in ("bulk_edit", "bulk_delete") and user != "no permission":
            return {403}  # bulk pages answer a POST of selected rows; a bare GET is refused
        if action == "attachment" and user in ("view", "change"):
            return {404}  # the raw notification of the test data has no attachment 0
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
                methods = ["POST"] if action in POST_ACTIONS else ["GET"]
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
