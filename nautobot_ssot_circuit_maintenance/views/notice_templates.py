"""Notice templates: list, detail, edit, try on stored mail, export as JSON and import.

The detail page and the edit page's "Try it" show what the template reads from the provider's stored mail.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template import Context
from django.urls import reverse
from django.views import View
from nautobot.apps.ui import (
    Button,
    ButtonColorChoices,
    ObjectDetailContent,
    ObjectFieldsPanel,
    Panel,
    SectionChoices,
)
from nautobot.apps.views import (
    ObjectBulkDestroyViewMixin,
    ObjectChangeLogViewMixin,
    ObjectDestroyViewMixin,
    ObjectDetailViewMixin,
    ObjectEditViewMixin,
    ObjectListViewMixin,
)

from nautobot_ssot_circuit_maintenance import filters, forms, tables
from nautobot_ssot_circuit_maintenance.api import serializers
from nautobot_ssot_circuit_maintenance.config import URL_NAMESPACE
from nautobot_ssot_circuit_maintenance.display import format_local
from nautobot_ssot_circuit_maintenance.intake.template_trial import PREVIEW_LIMIT, try_template
from nautobot_ssot_circuit_maintenance.models import NoticeTemplate, template_files
from nautobot_ssot_circuit_maintenance.models.notice_templates import template_spec
from nautobot_ssot_circuit_maintenance.notice_templates.spec import ITEMS
from nautobot_ssot_circuit_maintenance.ui import CsrfFailurePage
from nautobot_ssot_circuit_maintenance.validation import PK_URL_PATTERN

_APP = "nautobot_ssot_circuit_maintenance"
TRIED_TEMPLATE = f"{_APP}/inc/notice_template_tried.html"
TRY_PAGE = f"{_APP}/noticetemplate_update.html"
# Reading stored mail shows its content: the permission to view notifications too.
TRY_PERMISSIONS = (f"{_APP}.view_noticetemplate", f"{_APP}.view_rawnotification")


class TriedPanel(Panel):
    """What the template reads from the provider's newest stored notices (nothing is written)."""

    def __init__(self, **kwargs: Any):
        """A panel rendered by TRIED_TEMPLATE."""
        super().__init__(label="Tried on stored mail", body_content_template_path=TRIED_TEMPLATE, **kwargs)

    def get_extra_context(self, context: Context) -> dict[str, Any]:
        """The template tried on its provider's stored mail, for a user who may read that mail."""
        extra = super().get_extra_context(context)
        template, user = context["object"], context["request"].user
        if not user.has_perms(TRY_PERMISSIONS):
            return {**extra, "tried_refused": "Viewing stored notifications needs the permission to view them."}
        return {**extra, "tried": try_template(template.spec(), template.provider, user), "limit": PREVIEW_LIMIT}


def _where(item: str) -> list[str]:
    return [f"{item}_source", f"{item}_pattern", f"{item}_column"]


class NoticeTemplateUIViewSet(
    CsrfFailurePage,
    ObjectListViewMixin,
    ObjectDetailViewMixin,
    ObjectEditViewMixin,
    ObjectDestroyViewMixin,
    ObjectBulkDestroyViewMixin,
    ObjectChangeLogViewMixin,
):
    """Notice templates: one per provider the parser library cannot read."""

    lookup_value_regex = PK_URL_PATTERN
    # No CSV import: a template is imported as the JSON file its export gives (the list's "Import JSON").
    action_buttons = ("add", "export")
    filterset_class = filters.NoticeTemplateFilterSet
    filterset_form_class = forms.NoticeTemplateFilterForm
    form_class = forms.NoticeTemplateForm
    queryset = NoticeTemplate.objects.select_related("provider")
    serializer_class = serializers.NoticeTemplateSerializer
    table_class = tables.NoticeTemplateTable
    object_detail_content = ObjectDetailContent(
        extra_buttons=(
            Button(
                weight=100,
                label="Export JSON",
                icon="mdi-download",
                color=ButtonColorChoices.BLUE,
                link_name=f"{URL_NAMESPACE}:noticetemplate_export",
                required_permissions=[f"{_APP}.view_noticetemplate"],
            ),
        ),
        panels=(
            ObjectFieldsPanel(
                section=SectionChoices.LEFT_HALF,
                weight=100,
                fields=["provider", "description", "date_formats", "time_zone", "last_updated"],
                value_transforms={"last_updated": [format_local]},
            ),
            *(
                ObjectFieldsPanel(
                    label=f"{item.replace('_', ' ').capitalize()}",
                    section=SectionChoices.LEFT_HALF,
                    weight=200 + index,
                    fields=_where(item)
                    + ([f"{item}_words", f"default_{item}"] if item in ("status", "impact") else []),
                )
                for index, item in enumerate(ITEMS)
            ),
            TriedPanel(section=SectionChoices.RIGHT_HALF, weight=100),
        ),
    )


class NoticeTemplateTryView(LoginRequiredMixin, View):
    """The edit form tried on the provider's stored mail, unsaved: the form again, with what it reads below."""

    def post(self, request: Any, pk: Any = None) -> Any:
        """Validate the posted form as a save would; when valid, try it; write nothing either way."""
        if not request.user.has_perms(TRY_PERMISSIONS):
            raise PermissionDenied("Trying a template needs the permissions to view templates and notifications.")
        instance = get_object_or_404(NoticeTemplate.objects.restrict(request.user, "view"), pk=pk) if pk else None
        form = forms.NoticeTemplateForm(request.POST, instance=instance)
        context = {
            "form": form,
            "obj": instance,
            "editing": instance is not None,
            "obj_type": NoticeTemplate._meta.verbose_name,
            "return_url": instance.get_absolute_url() if instance else reverse(f"{URL_NAMESPACE}:noticetemplate_list"),
            "save_url": reverse(f"{URL_NAMESPACE}:noticetemplate_edit", args=[pk])
            if pk
            else reverse(f"{URL_NAMESPACE}:noticetemplate_add"),
            "trying": True,
            "limit": PREVIEW_LIMIT,
        }
        if form.is_valid():
            context["tried"] = try_template(template_spec(form.instance), form.instance.provider, request.user)
        return render(request, TRY_PAGE, context, status=200 if form.is_valid() else 400)


class NoticeTemplateExportView(LoginRequiredMixin, View):
    """A template as its JSON file (what Import takes)."""

    def get(self, request: Any, pk: Any) -> HttpResponse:
        """The JSON download."""
        if not request.user.has_perm(f"{_APP}.view_noticetemplate"):
            raise PermissionDenied("Exporting a template needs the permission to view templates.")
        template = get_object_or_404(NoticeTemplate.objects.restrict(request.user, "view"), pk=pk)
        response = HttpResponse(
            json.dumps(template_files.exported(template), indent=2), content_type="application/json"
        )
        response["Content-Disposition"] = f'attachment; filename="{template_files.export_filename(template)}"'
        return response


class NoticeTemplateImportView(LoginRequiredMixin, View):
    """Upload a template's JSON file: saved as its provider's template (new, or replacing the one it has)."""

    template_name = f"{_APP}/noticetemplate_import.html"

    def _check(self, request: Any) -> None:
        if not request.user.has_perms((f"{_APP}.add_noticetemplate", f"{_APP}.change_noticetemplate")):
            raise PermissionDenied("Importing templates needs the permissions to add and change them.")

    def get(self, request: Any) -> Any:
        """The upload form."""
        self._check(request)
        return render(request, self.template_name, {"form": forms.NoticeTemplateImportForm()})

    def post(self, request: Any) -> Any:
        """Save the uploaded template and go to it; a file that is no valid template is a 400 saying why."""
        self._check(request)
        form = forms.NoticeTemplateImportForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data["file"].read(template_files.MAX_FILE_BYTES + 1)
            try:
                if len(data) > template_files.MAX_FILE_BYTES:
                    raise ValidationError(f"The file is larger than {template_files.MAX_FILE_BYTES:,} bytes.")
                try:
                    document = json.loads(data)
                except (ValueError, RecursionError) as error:
                    raise ValidationError(f"Not JSON: {error}") from None
                template, created = template_files.imported(document)
            except ValidationError as error:
                if hasattr(error, "error_dict"):
                    texts = [f"{field}: {'; '.join(errs)}" for field, errs in error.message_dict.items()]
                else:
                    texts = error.messages
                for text in texts:
                    form.add_error("file", text)
            else:
                messages.success(request, f"{'Created' if created else 'Replaced'} the {template}.")
                return redirect(template.get_absolute_url())
        return render(request, self.template_name, {"form": form}, status=400)
