"""UI views, one module per page family; the view sets and views that `urls.py` routes are named here."""

from nautobot_ssot_circuit_maintenance.views.actions import ActionRuleUIViewSet
from nautobot_ssot_circuit_maintenance.views.customers import (
    CustomerNoticeTemplateUIViewSet,
    CustomerNoticeUIViewSet,
    TenantNoticeSettingsUIViewSet,
)
from nautobot_ssot_circuit_maintenance.views.mail import (
    NotificationUploadView,
    RawNotificationAttachmentView,
    RawNotificationUIViewSet,
)
from nautobot_ssot_circuit_maintenance.views.maintenances import (
    CircuitImpactUIViewSet,
    CircuitMaintenanceUIViewSet,
    MaintenanceNoteUIViewSet,
)
from nautobot_ssot_circuit_maintenance.views.notice_templates import (
    NoticeTemplateExportView,
    NoticeTemplateImportView,
    NoticeTemplateTryView,
    NoticeTemplateUIViewSet,
)
from nautobot_ssot_circuit_maintenance.views.sources import GoogleOAuthCallbackView, NotificationSourceUIViewSet

__all__ = [
    "ActionRuleUIViewSet",
    "CircuitImpactUIViewSet",
    "CircuitMaintenanceUIViewSet",
    "CustomerNoticeTemplateUIViewSet",
    "CustomerNoticeUIViewSet",
    "GoogleOAuthCallbackView",
    "MaintenanceNoteUIViewSet",
    "NoticeTemplateExportView",
    "NoticeTemplateImportView",
    "NoticeTemplateTryView",
    "NoticeTemplateUIViewSet",
    "NotificationSourceUIViewSet",
    "NotificationUploadView",
    "RawNotificationAttachmentView",
    "RawNotificationUIViewSet",
    "TenantNoticeSettingsUIViewSet",
]
