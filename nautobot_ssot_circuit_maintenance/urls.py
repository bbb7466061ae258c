"""UI routes of the app."""

from django.urls import URLPattern, path
from nautobot.apps.urls import NautobotUIViewSetRouter

from . import views

app_name = "nautobot_ssot_circuit_maintenance"

router = NautobotUIViewSetRouter()
router.register("maintenance", views.CircuitMaintenanceUIViewSet)
router.register("circuitimpact", views.CircuitImpactUIViewSet)
router.register("note", views.MaintenanceNoteUIViewSet)
router.register("rawnotification", views.RawNotificationUIViewSet)
router.register("source", views.NotificationSourceUIViewSet)

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
    *(p for p in router.urls if getattr(p, "name", None) not in _NO_ROUTE),
]
