"""UI routes of the app."""

from django.urls import URLPattern, path, re_path
from nautobot.apps.urls import NautobotUIViewSetRouter

from nautobot_ssot_circuit_maintenance import views
from nautobot_ssot_circuit_maintenance.decisions import views as decisions
from nautobot_ssot_circuit_maintenance.older_app import redirects
from nautobot_ssot_circuit_maintenance.triage import aliases
from nautobot_ssot_circuit_maintenance.triage import views as triage
from nautobot_ssot_circuit_maintenance.userdocs import views as userdocs
from nautobot_ssot_circuit_maintenance.views import calendar as views_calendar
from nautobot_ssot_circuit_maintenance.views import customers as views_customers
from nautobot_ssot_circuit_maintenance.views import overview as views_overview

app_name = "nautobot_ssot_circuit_maintenance"

router = NautobotUIViewSetRouter()
router.register("maintenance", views.CircuitMaintenanceUIViewSet)
router.register("circuitimpact", views.CircuitImpactUIViewSet)
router.register("note", views.MaintenanceNoteUIViewSet)
router.register("rawnotification", views.RawNotificationUIViewSet)
router.register("source", views.NotificationSourceUIViewSet)
router.register("triage", triage.TriageQueueUIViewSet, basename="triage")
router.register("circuitalias", aliases.CircuitAliasUIViewSet)
router.register("noticetemplate", views.NoticeTemplateUIViewSet)
router.register("customernotice", views_customers.CustomerNoticeUIViewSet)
router.register("customernoticetemplate", views_customers.CustomerNoticeTemplateUIViewSet)
router.register("tenantnoticesettings", views_customers.TenantNoticeSettingsUIViewSet)
router.register("actionrule", views.ActionRuleUIViewSet)

# Notification sources come from PLUGINS_CONFIG: no "add" page.
_NO_ROUTE = {"notificationsource_add"}
urlpatterns: list[URLPattern] = [
    # The older app's address: the redirect URI registered with Google stays valid.
    path("source/google_oauth2callback/", views.GoogleOAuthCallbackView.as_view(), name="google_oauth2callback"),
    path(
        "rawnotification/<uuid:pk>/attachment/<int:index>/",
        views.RawNotificationAttachmentView.as_view(),
        name="rawnotification_attachment",
    ),
    # The older app's addresses of pages that moved.
    path("maintenance/job/", redirects.LegacyJobRedirectView.as_view(), name="circuitmaintenance_job"),
    path(
        "parsednotification/<uuid:pk>/",
        redirects.LegacyParsedNotificationRedirectView.as_view(),
        name="parsednotification",
    ),
    # Triage actions on one notification of the queue.
    path("triage/<uuid:pk>/assign-sender/", triage.AssignSenderView.as_view(), name="triage_assign_sender"),
    path("triage/<uuid:pk>/map-circuit/", triage.MapCircuitView.as_view(), name="triage_map_circuit"),
    path("triage/<uuid:pk>/dismiss/", triage.DismissView.as_view(), name="triage_dismiss"),
    path("triage/<uuid:pk>/reprocess/", triage.ReprocessView.as_view(), name="triage_reprocess"),
    # A person outranks mail (decisions/): exclude, include or confirm a notice; override a maintenance.
    path("rawnotification/<uuid:pk>/exclude/", decisions.ExcludeView.as_view(), name="rawnotification_exclude"),
    path("rawnotification/<uuid:pk>/include/", decisions.IncludeView.as_view(), name="rawnotification_include"),
    path("rawnotification/<uuid:pk>/confirm/", decisions.ConfirmView.as_view(), name="rawnotification_confirm"),
    path("maintenance/<uuid:pk>/override/", decisions.OverrideView.as_view(), name="circuitmaintenance_override"),
    # The older app's overview address; before the router, whose maintenance/<pk>/ would not match it anyway.
    path("maintenance/overview/", views_overview.OverviewView.as_view(), name="overview"),
    path("calendar/", views_calendar.CalendarView.as_view(), name="calendar"),
    path("calendar/subscribe/", views_calendar.FeedSubscribeView.as_view(), name="calendar_subscribe"),
    # The feed with its token in an Authorization: Bearer header or a ?token= parameter, out of the path.
    path("calendar/feed.ics", views_calendar.CalendarFeedView.as_view(), name="calendar_feed_by_credential"),
    # The feed with its token in the path: calendar applications can send nothing else.
    re_path(
        r"^calendar/feed/(?P<key>[A-Za-z0-9_-]{1,64})\.ics$",
        views_calendar.CalendarFeedView.as_view(),
        name="calendar_feed",
    ),
    # The user documentation shipped in the package (Apps → Installed Apps → App Documentation).
    path("docs/", userdocs.DocsPageView.as_view(), name="docs"),
    path("docs/images/<path:name>", userdocs.DocsImageView.as_view(), name="docs_image"),
    path("docs/<str:page>/", userdocs.DocsPageView.as_view(), name="docs_page"),
    # Notice templates: tried unsaved on stored mail, exported and imported as JSON; before the router.
    path("noticetemplate/try/", views.NoticeTemplateTryView.as_view(), name="noticetemplate_try_new"),
    path("noticetemplate/<uuid:pk>/try/", views.NoticeTemplateTryView.as_view(), name="noticetemplate_try"),
    path("noticetemplate/<uuid:pk>/export/", views.NoticeTemplateExportView.as_view(), name="noticetemplate_export"),
    path("noticetemplate/import-json/", views.NoticeTemplateImportView.as_view(), name="noticetemplate_import_json"),
    # .eml files through the push path (watch/push.py); before the router so "upload" is not read as a pk.
    path("rawnotification/upload/", views.NotificationUploadView.as_view(), name="rawnotification_upload"),
    *(p for p in router.urls if getattr(p, "name", None) not in _NO_ROUTE),
]
