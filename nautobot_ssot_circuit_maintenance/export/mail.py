"""Stored mail exported in bulk (a zip of `.eml` files and a manifest), for bug reports to the parser's maintainers.

The UI (the raw notification list and the triage queue: the selected rows, or what the filters show) and the
REST API (`rawnotification/export/`) both answer with `mail_export_response`; they check the view permission
and the request, this module only writes what it is given.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from rest_framework.decorators import action

from nautobot_ssot_circuit_maintenance.mail.archive import ArchivedMail, zip_stream
from nautobot_ssot_circuit_maintenance.models import RawNotification
from nautobot_ssot_circuit_maintenance.validation import is_uuid

# Messages loaded (and decompressed) per database round trip while the archive streams.
EXPORT_BATCH = 20


class BadExport(ValueError):
    """The request does not say which notifications to export (answered 400 with the message)."""


def selected_pks(values: Iterable[Any]) -> list[str]:
    """The notification IDs a request selected; BadExport unless every one is a UUID and there is at least one."""
    pks = [str(value).strip() for value in values]
    if not pks:
        raise BadExport("Select at least one notification, or export what the filters show.")
    if not all(is_uuid(pk) for pk in pks):
        raise BadExport("pk: every value must be a raw notification's UUID.")
    return pks


def manifest_entry(raw: RawNotification) -> dict[str, Any]:
    """What the manifest says of one message: what became of it, who sent it, when it came, which parser read it."""
    return {
        "id": str(raw.pk),
        "outcome": raw.outcome,
        "error": raw.error,
        "sender": raw.sender,
        "provider": raw.provider.name if raw.provider is not None else None,
        "subject": raw.subject,
        "date": raw.date.isoformat() if raw.date else None,
        "received": raw.witnessed.isoformat() if raw.witnessed else None,
        "parser_version": raw.parser_version,
        "message_key": raw.message_key,
        "stored": raw.kept,
    }


def archived(notifications: QuerySet) -> Iterator[ArchivedMail]:
    """Each notification as a file of the archive, oldest first, loaded a few at a time."""
    pks = notifications.order_by("date", "pk").values_list("pk", flat=True)
    batch: list[Any] = []
    for pk in pks.iterator(chunk_size=1000):
        batch.append(pk)
        if len(batch) == EXPORT_BATCH:
            yield from _loaded(batch)
            batch = []
    yield from _loaded(batch)


def _loaded(pks: list[Any]) -> Iterator[ArchivedMail]:
    rows = RawNotification.objects.select_related("provider").in_bulk(pks)
    for pk in pks:
        raw = rows.get(pk)
        if raw is None:  # deleted while the archive was being written
            continue
        yield ArchivedMail(
            filename=f"{raw.date:%Y%m%d-%H%M%S}-{raw.outcome or 'unknown'}-{raw.pk}.eml",
            data=raw.message_bytes(),
            entry=manifest_entry(raw),
        )


def mail_export_response(notifications: QuerySet) -> StreamingHttpResponse:
    """The notifications as a streamed zip download (`.eml` files and `manifest.json`)."""
    response = StreamingHttpResponse(zip_stream(archived(notifications)), content_type="application/zip")
    filename = f"notifications-{timezone.now():%Y%m%d-%H%M%S}.zip"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["X-Content-Type-Options"] = "nosniff"
    return response


class MailExportActions:
    """A list page's "Export mail" (view permission): POST the selected rows' `pk`s, or GET what the filters show.

    A POST with `_all` (Nautobot's "select all matching") exports what the filters in the query string show.
    """

    @action(
        detail=False,
        methods=["get", "post"],
        url_path="export-mail",
        url_name="export_mail",
        custom_view_base_action="view",
    )
    def export_mail(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        """The selected notifications (or those the filters show) as a zip; 400 with a message for a bad request."""
        queryset = self.get_queryset()
        if request.method == "POST" and not request.POST.get("_all"):
            try:
                pks = selected_pks(request.POST.getlist("pk"))
            except BadExport as error:
                return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")
            return mail_export_response(queryset.filter(pk__in=pks))
        filterset = self.filterset_class(self.get_filter_params(request), queryset)
        if not filterset.is_valid():
            problems = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in filterset.errors.items())
            return HttpResponseBadRequest(f"Invalid filters: {problems}", content_type="text/plain; charset=utf-8")
        return mail_export_response(filterset.qs)
