"""UI routes of the app."""

from django.urls import URLPattern, path, re_path
from nautobot.apps.urls import NautobotUIViewSetRouter

from . import views, views_calendar

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
    # The older app's overview address; before the router, whose maintenance/<pk>/ would not match it anyway.
    path("maintenance/overview/", views_calendar.OverviewView.as_view(), name="overview"),
    path("calendar/", views_calendar.CalendarView.as_view(), name="calendar"),
    path("calendar/subscribe/", views_calendar.FeedSubscribeView.as_view(), name="calendar_subscribe"),
    re_path(
        r"^calendar/feed/(?P<key>[A-Za-z0-9_-]{1,64})\.ics$",
        views_calendar.CalendarFeedView.as_view(),
        name="calendar_feed",
    ),
    *(p for p in router.urls if getattr(p, "name", None) not in _NO_ROUTE),
]
