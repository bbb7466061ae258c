"""REST API routes (paths kept compatible with the older circuit-maintenance app)."""

from nautobot.apps.api import OrderedDefaultRouter

from . import views

router = OrderedDefaultRouter()
router.register("maintenance", views.CircuitMaintenanceViewSet)
router.register("circuitimpact", views.CircuitImpactViewSet)
router.register("note", views.MaintenanceNoteViewSet)
router.register("rawnotification", views.RawNotificationViewSet)
router.register("parsednotification", views.ParsedNotificationViewSet)
router.register("notificationsource", views.NotificationSourceViewSet)

app_name = "nautobot_ssot_circuit_maintenance-api"
urlpatterns = router.urls
