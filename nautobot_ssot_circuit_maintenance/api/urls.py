"""REST API routes (paths kept compatible with the older circuit-maintenance app)."""

from django.urls import path
from nautobot.apps.api import OrderedDefaultRouter

from nautobot_ssot_circuit_maintenance.api import views

router = OrderedDefaultRouter()
router.register("maintenance", views.CircuitMaintenanceViewSet)
router.register("circuitimpact", views.CircuitImpactViewSet)
router.register("note", views.MaintenanceNoteViewSet)
router.register("rawnotification", views.RawNotificationViewSet)
router.register("parsednotification", views.ParsedNotificationViewSet)
router.register("notificationsource", views.NotificationSourceViewSet)
router.register("circuitalias", views.CircuitAliasViewSet)
router.register("flag", views.MaintenanceFlagViewSet)
router.register("noticetemplate", views.NoticeTemplateViewSet)
router.register("customernotice", views.CustomerNoticeViewSet)
router.register("customernoticetemplate", views.CustomerNoticeTemplateViewSet)
router.register("tenantnoticesettings", views.TenantNoticeSettingsViewSet)
router.register("actionrule", views.ActionRuleViewSet)

app_name = "nautobot_ssot_circuit_maintenance-api"
urlpatterns = [
    # One raw RFC 822 message in (see watch/push.py and docs/push.md).
    path("push/", views.PushView.as_view(), name="push"),
    *router.urls,
]
