"""REST API views."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import Prefetch, QuerySet
from django.http.request import RawPostDataException
from drf_spectacular.utils import OpenApiParameter, extend_schema
from nautobot.apps.api import ModelViewSet, NautobotModelViewSet, NotesViewSetMixin, ReadOnlyModelViewSet
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import action
from rest_framework.exceptions import MethodNotAllowed, NotFound, PermissionDenied, ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from nautobot_ssot_circuit_maintenance import filters
from nautobot_ssot_circuit_maintenance.api import serializers
from nautobot_ssot_circuit_maintenance.calendar.feed import calendar_feed_response_for_api
from nautobot_ssot_circuit_maintenance.customers import approval
from nautobot_ssot_circuit_maintenance.decisions import actions as decisions
from nautobot_ssot_circuit_maintenance.decisions.requests import BadDecision, override_of, reason_of
from nautobot_ssot_circuit_maintenance.export.mail import BadExport, mail_export_response, selected_pks
from nautobot_ssot_circuit_maintenance.intake.locking import SyncBusy
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
    RawNotification,
    TenantNoticeSettings,
    template_files,
)
from nautobot_ssot_circuit_maintenance.models.maintenance import DUPLICATE_ALIAS
from nautobot_ssot_circuit_maintenance.models.reach import (
    SERIALIZED_PREFETCH,
    SERIALIZED_RELATED,
    termination_prefetch,
)
from nautobot_ssot_circuit_maintenance.validation import PK_URL_PATTERN
from nautobot_ssot_circuit_maintenance.watch import push

PUSH_PERMISSION = "nautobot_ssot_circuit_maintenance.add_pushedmessage"
VIEW_RAW_PERMISSION = "nautobot_ssot_circuit_maintenance.view_rawnotification"


def _decided(view: Any, request: Request, permission: str, decide: Any) -> Response:
    """Carry out a person's decision on the view's object.

    403 without `permission` on it, 400 for a bad request, 409 while a sync holds the lock; else what was
    recomputed.
    """
    model = view.queryset.model
    # Looked up among what the user may view (the viewset would restrict a POST to what the user may add).
    instance = model.objects.restrict(request.user, "view").filter(pk=view.kwargs.get("pk")).first()
    if instance is None:
        raise NotFound(f"No {model._meta.verbose_name} matches the given query.")
    codename = f"{model._meta.app_label}.{permission}_{model._meta.model_name}"
    if not model.objects.restrict(request.user, permission).filter(pk=instance.pk).exists():
        raise PermissionDenied(f"This needs the permission {codename} on the object.")
    try:
        refolded = decide(instance)
    except (BadDecision, ValueError) as error:
        raise ValidationError({"detail": str(error)}) from error
    except SyncBusy as error:
        return Response({"detail": str(error)}, status=409)
    return Response(
        {"changed": getattr(refolded, "changed", []), "deleted": getattr(refolded, "deleted", [])}, status=200
    )


class CalendarRenderer(BaseRenderer):
    """Lets a client ask for `text/calendar` (or `?format=ics`); the feed itself is an HttpResponse."""

    media_type = "text/calendar"
    format = "ics"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        """Render an error as JSON: the iCalendar feed itself never passes through a renderer."""
        # Only errors get here; `finalize_response` labels them application/json.
        return json.dumps(data).encode("utf-8")


class CircuitMaintenanceViewSet(NautobotModelViewSet):
    """Maintenances, with their iCalendar feed and a person's override of what the notices say."""

    lookup_value_regex = PK_URL_PATTERN
    queryset = CircuitMaintenance.objects.select_related(*SERIALIZED_RELATED).prefetch_related(*SERIALIZED_PREFETCH)
    serializer_class = serializers.CircuitMaintenanceSerializer
    filterset_class = filters.CircuitMaintenanceFilterSet

    @action(detail=False, methods=["get"], url_path="calendar", renderer_classes=[CalendarRenderer, JSONRenderer])
    def calendar(self, request: Request) -> Any:
        """The maintenances matching the filters, as an iCalendar feed (one event per window), with ETag/304.

        Maintenances that ended more than `ended_within_days` days ago (a filter; here 30 unless given) are left out.
        """
        return calendar_feed_response_for_api(request, self.filter_queryset(self.get_queryset()))

    @extend_schema(request=None, responses={200: None})
    @action(detail=True, methods=["post", "delete"], url_path="override", permission_classes=[IsAuthenticated])
    def override(self, request: Request, pk: Any = None) -> Response:
        """POST {status, windows: [{start, end}], circuits: [{circuit, impact}], reason}; DELETE releases it.

        POST: a person's status, windows and/or circuits hold over any notice until released; DELETE releases them
        (the notices decide again at once).
        """
        if request.method == "DELETE":
            return _decided(self, request, "change", decisions.release)

        def decide(maintenance: CircuitMaintenance) -> Any:
            status, windows, circuits = override_of(request.data)
            decisions.override(
                maintenance,
                request.user,
                reason_of(request.data),
                status=status,
                windows=windows,
                circuits=circuits,
            )

        return _decided(self, request, "change", decide)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        """Label an error from the calendar feed application/json, whatever the client asked for."""
        response = super().finalize_response(request, response, *args, **kwargs)
        if isinstance(response, Response) and isinstance(
            getattr(response, "accepted_renderer", None), CalendarRenderer
        ):
            # An error is JSON and says so, whatever the client asked for: never labelled text/calendar.
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = "application/json"
        return response


class CircuitImpactViewSet(NautobotModelViewSet):
    """How maintenances affect circuits, with each circuit's terminations prefetched."""

    lookup_value_regex = PK_URL_PATTERN
    queryset = CircuitImpact.objects.select_related("maintenance", "circuit", "circuit__tenant").prefetch_related(
        termination_prefetch(), "maintenance__superseded_by"
    )
    serializer_class = serializers.CircuitImpactSerializer
    filterset_class = filters.CircuitImpactFilterSet


class MaintenanceNoteViewSet(NautobotModelViewSet):
    """Remarks on maintenances."""

    lookup_value_regex = PK_URL_PATTERN
    queryset = MaintenanceNote.objects.select_related("maintenance")
    serializer_class = serializers.MaintenanceNoteSerializer
    filterset_class = filters.MaintenanceNoteFilterSet


@contextmanager
def _duplicate_alias_is_bad_request() -> Iterator[None]:
    """An IntegrityError on saving an alias (its provider and normalized ID are unique) becomes a 400 that says so."""
    try:
        yield
    except IntegrityError as error:
        raise ValidationError({"non_field_errors": [f"{DUPLICATE_ALIAS}."]}) from error


class CircuitAliasViewSet(ModelViewSet):
    """Circuit aliases: a provider's circuit ID mapped to a circuit (as the triage queue maps them), change-logged."""

    lookup_value_regex = PK_URL_PATTERN
    queryset = CircuitAlias.objects.select_related("provider", "circuit", "created_by")
    serializer_class = serializers.CircuitAliasSerializer
    filterset_class = filters.CircuitAliasFilterSet

    def perform_create(self, serializer: Any) -> None:
        """Saved; a duplicate saved by someone else meanwhile is a 400, as one found by validation."""
        with _duplicate_alias_is_bad_request():
            super().perform_create(serializer)

    def perform_update(self, serializer: Any) -> None:
        """Saved; a duplicate saved by someone else meanwhile is a 400, as one found by validation."""
        with _duplicate_alias_is_bad_request():
            super().perform_update(serializer)


class MaintenanceFlagViewSet(ReadOnlyModelViewSet):
    """Isolation and lost-redundancy flags: derived records, read-only; each lists the maintenances that raise it."""

    lookup_value_regex = PK_URL_PATTERN
    queryset = MaintenanceFlag.objects.select_related("location", "device")
    serializer_class = serializers.MaintenanceFlagSerializer
    filterset_class = filters.MaintenanceFlagFilterSet

    def get_queryset(self) -> QuerySet:
        """The flags, each with the maintenances the user may view prefetched."""
        maintenances = CircuitMaintenance.objects.restrict(self.request.user, "view")
        return super().get_queryset().prefetch_related(Prefetch("maintenances", queryset=maintenances))


class NotificationSourceViewSet(NautobotModelViewSet):
    """Sources come from the configuration: read them, or change their providers; no create or delete."""

    lookup_value_regex = PK_URL_PATTERN

    queryset = NotificationSource.objects.all()
    serializer_class = serializers.NotificationSourceSerializer
    filterset_class = filters.NotificationSourceFilterSet

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Refuse: sources are defined in PLUGINS_CONFIG."""
        raise MethodNotAllowed(request.method, detail="Notification sources are defined in PLUGINS_CONFIG.")

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Refuse: a source is removed from PLUGINS_CONFIG, not deleted here."""
        raise MethodNotAllowed(request.method, detail="Notification sources are defined in PLUGINS_CONFIG.")

    def bulk_destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Refuse: a source is removed from PLUGINS_CONFIG, not deleted here."""
        raise MethodNotAllowed(request.method, detail="Notification sources are defined in PLUGINS_CONFIG.")


class RawNotificationViewSet(ReadOnlyModelViewSet):
    """Fetched messages: immutable facts, read-only; their mail exported in bulk as a zip."""

    lookup_value_regex = PK_URL_PATTERN

    queryset = RawNotification.objects.select_related("source", "provider")
    serializer_class = serializers.RawNotificationSerializer
    filterset_class = filters.RawNotificationFilterSet

    @extend_schema(
        request={"application/json": {"type": "object", "properties": {"ids": {"type": "array"}}}},
        responses={(200, "application/zip"): {"type": "string", "format": "binary"}},
    )
    @action(detail=False, methods=["get", "post"], url_path="export", permission_classes=[IsAuthenticated])
    def export(self, request: Request) -> Any:
        """The stored `.eml` files and a `manifest.json`, as a zip: GET what the filters select, POST {ids: [...]}.

        Reading, whatever the method: the view permission, and only the notifications the user may view; 400 for a
        bad filter or an ID that is not a UUID.
        """
        if not request.user.has_perm(VIEW_RAW_PERMISSION):
            raise PermissionDenied(f"Exporting mail needs the permission {VIEW_RAW_PERMISSION}.")
        # A POST only reads: the queryset restricted to what the user may view (not "add", as for a POST).
        visible = RawNotification.objects.restrict(request.user, "view")
        if request.method == "POST":
            ids = request.data.get("ids") if isinstance(request.data, dict) else None
            if not isinstance(ids, list):
                raise ValidationError({"ids": "A list of raw notification IDs is required."})
            try:
                pks = selected_pks(ids)
            except BadExport as error:
                raise ValidationError({"ids": str(error)}) from error
            return mail_export_response(visible.filter(pk__in=pks))
        return mail_export_response(self.filter_queryset(visible))

    @extend_schema(request=None, responses={200: None})
    @action(detail=True, methods=["post"], url_path="exclude", permission_classes=[IsAuthenticated])
    def exclude(self, request: Request, pk: Any = None) -> Response:
        """POST {reason}: leave the notification out of every fold as forged or mistaken.

        Its maintenances are recomputed at once (and deleted if no other notice says they exist).
        """
        return _decided(
            self, request, "change", lambda raw: decisions.exclude(raw, request.user, reason_of(request.data))
        )

    @extend_schema(request=None, responses={200: None})
    @action(detail=True, methods=["post"], url_path="include", permission_classes=[IsAuthenticated])
    def include(self, request: Request, pk: Any = None) -> Response:
        """Undo an exclusion: the notification counts again, at once."""
        return _decided(self, request, "change", decisions.include)

    @extend_schema(request=None, responses={200: None})
    @action(detail=True, methods=["post"], url_path="confirm", permission_classes=[IsAuthenticated])
    def confirm(self, request: Request, pk: Any = None) -> Response:
        """Confirm a notice that awaits confirmation (an unauthenticated change that matters): it counts at once."""
        return _decided(self, request, "change", lambda raw: decisions.confirm(raw, request.user))


class ParsedNotificationViewSet(ReadOnlyModelViewSet):
    """What the parser read out of each message: immutable facts, read-only."""

    lookup_value_regex = PK_URL_PATTERN

    queryset = ParsedNotification.objects.select_related("raw_notification", "maintenance", "provider")
    serializer_class = serializers.ParsedNotificationSerializer
    filterset_class = filters.ParsedNotificationFilterSet


class CanPush(BasePermission):
    """Token (or session) authenticated, with the `add` permission on pushed messages."""

    message = "Pushing a message needs the permission nautobot_ssot_circuit_maintenance.add_pushedmessage."

    def has_permission(self, request: Request, view: Any) -> bool:
        """Whether the user is authenticated and may add pushed messages."""
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm(PUSH_PERMISSION))


class RawBodySessionAuthentication(SessionAuthentication):
    """Session (browser cookie) authentication whose CSRF check leaves a raw body alone.

    DRF hands its own Request to Django's CSRF check, which looks for a form token in `request.POST`;
    on DRF's Request that parses the body, and the push endpoint has no parsers (the body is a raw
    message), so a session POST was answered 415 whether or not it carried the CSRF token. Django's
    own request has an empty POST for a body that is not a form, and leaves the body unread. A failed
    check is a 403 that says what to send.
    """

    def enforce_csrf(self, request: Request) -> None:
        """Run Django's CSRF check on Django's own request, and say what to send when it fails."""
        try:
            super().enforce_csrf(request._request)
        except PermissionDenied as error:
            raise PermissionDenied(
                f"{error.detail} A browser session must send its CSRF token (the X-CSRFToken header); "
                "a script should authenticate with an API token instead (Authorization: Token <key>)."
            ) from None


def _read_body(request: Request, limit: int) -> bytes:
    """At most `limit` + 1 bytes of the body, read from the stream (so no size check of Django's answers first)."""
    declared = request.META.get("CONTENT_LENGTH") or ""
    if declared.isdigit() and int(declared) > limit:
        raise push.PushRefused(f"The message is {int(declared):,} bytes, more than the {limit:,} allowed", 413)
    try:
        return request._request.read(limit + 1)
    except RawPostDataException:
        return request._request.body[: limit + 1]


class PushView(APIView):
    """Accept one raw RFC 822 message (the request body) for the built-in "pushed" source.

    `?process=now` runs the sync for it at once and answers with its outcome; otherwise the next sync
    takes it. 201: stored and processed (`processing` done, with its `outcome`); 202: stored, not processed
    (`processing` queued, with the `reason` and the run queued for it, if any; or failed, with the `error`);
    200: already stored (same Message-ID and body), with what became of it; 413: over
    `message_limits.max_message_mb`.
    """

    authentication_classes = [
        RawBodySessionAuthentication if cls is SessionAuthentication else cls for cls in APIView.authentication_classes
    ]
    permission_classes = [CanPush]
    parser_classes: list = []  # the body is read raw, never parsed as a form or JSON

    @extend_schema(
        request={"message/rfc822": {"type": "string", "format": "binary"}},
        parameters=[OpenApiParameter("process", str, enum=["now", "later"], required=False)],
        responses={200: dict, 201: dict, 202: dict},
    )
    def post(self, request: Request) -> Response:
        """Store the pushed message, process it now if `?process=now`, and answer 200, 201, 202 or an error."""
        process = request.query_params.get("process", "later")
        if process not in ("now", "later"):
            return Response({"detail": "process must be 'now' or 'later'"}, status=400)
        try:
            raw = _read_body(request, push.max_push_bytes())
            result = push.accept(raw, request.user)
        except push.PushRefused as error:
            return Response({"detail": str(error)}, status=error.status)
        if process == "now" and result.processing != "done":
            # A copy still waiting (its processing failed before, say) is processed now too, as asked.
            result = push.process_now(result, request.user)
        if not result.created:
            status = 200
        else:
            status = 201 if result.processing == "done" else 202
        return Response(result.as_dict(), status=status)


class NoticeTemplateViewSet(ModelViewSet):
    """Notice templates, change-logged; `export/` gives one as its JSON file, `import/` saves such a file."""

    lookup_value_regex = PK_URL_PATTERN
    queryset = NoticeTemplate.objects.select_related("provider")
    serializer_class = serializers.NoticeTemplateSerializer
    filterset_class = filters.NoticeTemplateFilterSet

    @extend_schema(responses={200: dict})
    @action(detail=True, methods=["get"], url_path="export")
    def export(self, request: Request, pk: Any = None) -> Response:
        """The template as the JSON document `import/` takes (the provider by name)."""
        return Response(template_files.exported(self.get_object()))

    @extend_schema(request=dict, responses={200: serializers.NoticeTemplateSerializer})
    @action(detail=False, methods=["post"], url_path="import")
    def import_template(self, request: Request) -> Response:
        """Save an exported template as its provider's (created, or replacing the one it has): 201 or 200."""
        needed = "add_noticetemplate" if not _has_template(request.data) else "change_noticetemplate"
        if not request.user.has_perm(f"nautobot_ssot_circuit_maintenance.{needed}"):
            raise PermissionDenied(f"Importing this template needs the {needed} permission.")
        try:
            template, created = template_files.imported(request.data)
        except DjangoValidationError as error:
            raise ValidationError(
                getattr(error, "message_dict", None) or {"non_field_errors": error.messages}
            ) from None
        body = serializers.NoticeTemplateSerializer(template, context={"request": request}).data
        return Response(body, status=201 if created else 200)


def _has_template(document: Any) -> bool:
    """Whether the provider an import document names has a template already."""
    name = document.get("provider") if hasattr(document, "get") else None
    return isinstance(name, str) and NoticeTemplate.objects.filter(provider__name=name).exists()


#
# Customer notices
#

APPROVE_PERMISSION = "nautobot_ssot_circuit_maintenance.approve_customernotice"
SEND_PERMISSION = "nautobot_ssot_circuit_maintenance.send_customernotice"


class CustomerNoticeViewSet(NotesViewSetMixin, ReadOnlyModelViewSet):
    """Customer notices with their recipients; approve, request approval or resend with POST to their actions.

    Read-only otherwise: the app drafts them. Approving needs `approve_customernotice`, resending
    `send_customernotice`, each apart from `change_customernotice`.
    """

    lookup_value_regex = PK_URL_PATTERN
    queryset = CustomerNotice.objects.select_related("tenant", "approved_by").prefetch_related(
        "recipients", "maintenances", "tags"
    )
    serializer_class = serializers.CustomerNoticeSerializer
    filterset_class = filters.CustomerNoticeFilterSet

    def _act(self, permission: str, act: Any) -> Response:
        # Only the notices the user may view are found (else 404); acting needs the action's own permission.
        notice = CustomerNotice.objects.restrict(self.request.user, "view").filter(pk=self.kwargs["pk"]).first()
        if notice is None:
            raise NotFound("No such customer notice.")
        if not self.request.user.has_perm(permission, notice):
            raise PermissionDenied(f"Needs the {permission.rpartition('.')[2]} permission.")
        try:
            act(notice)
        except approval.ApprovalRefused as error:
            raise ValidationError({"detail": str(error)}) from None
        notice.refresh_from_db()
        return Response(self.get_serializer(notice).data)

    @extend_schema(request=None, responses=serializers.CustomerNoticeSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def approve(self, request: Request, pk: Any = None) -> Response:
        """Approve a draft for sending (where no approval workflow applies); the send job is queued."""
        return self._act(APPROVE_PERMISSION, lambda notice: approval.approve(notice, request.user))

    @extend_schema(request=None, responses=serializers.CustomerNoticeSerializer)
    @action(detail=True, methods=["post"], url_path="request-approval", permission_classes=[IsAuthenticated])
    def request_approval(self, request: Request, pk: Any = None) -> Response:
        """Start the approval workflow that applies to the draft."""
        return self._act("nautobot_ssot_circuit_maintenance.change_customernotice", approval.request_approval)

    @extend_schema(request=None, responses=serializers.CustomerNoticeSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def resend(self, request: Request, pk: Any = None) -> Response:
        """Send again to every recipient not sent (refused, or interrupted); the send job is queued."""
        return self._act(SEND_PERMISSION, lambda notice: approval.resend(notice, request.user))


class CustomerNoticeTemplateViewSet(NautobotModelViewSet):
    """Customer notice templates."""

    lookup_value_regex = PK_URL_PATTERN
    queryset = CustomerNoticeTemplate.objects.select_related("tenant", "provider")
    serializer_class = serializers.CustomerNoticeTemplateSerializer
    filterset_class = filters.CustomerNoticeTemplateFilterSet


class TenantNoticeSettingsViewSet(NautobotModelViewSet):
    """How each tenant is told about maintenances."""

    lookup_value_regex = PK_URL_PATTERN
    queryset = TenantNoticeSettings.objects.select_related("tenant")
    serializer_class = serializers.TenantNoticeSettingsSerializer
    filterset_class = filters.TenantNoticeSettingsFilterSet


class ActionRuleViewSet(NautobotModelViewSet):
    """Action rules: tell someone or run a job, for the maintenances they match, at their occasion."""

    lookup_value_regex = PK_URL_PATTERN
    queryset = ActionRule.objects.select_related("secrets_group", "job").prefetch_related(
        "providers", "locations", "tenants", "tags"
    )
    serializer_class = serializers.ActionRuleSerializer
    filterset_class = filters.ActionRuleFilterSet
