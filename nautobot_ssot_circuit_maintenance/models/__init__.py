"""Circuit maintenances, what they impact, and the notifications they were built from.

The facts about a maintenance ("is it finished", "is it active now", its windows as times) are
written once, as queryset methods (`querysets.py`) and model properties, and used by the pages, the
panels, the calendar, the metrics and the filters. The records live in `maintenance.py` (a maintenance
and what hangs on it) and `notifications.py` (sources and what they delivered); every name is
importable from here, as Nautobot's own apps (`dcim.models`) do it.
"""

from nautobot_ssot_circuit_maintenance.models.actions import ActionRule, ActionRun, MaintenanceSilence
from nautobot_ssot_circuit_maintenance.models.calendar import CalendarFeedToken
from nautobot_ssot_circuit_maintenance.models.customers import (
    CustomerNotice,
    CustomerNoticeRecipient,
    CustomerNoticeTemplate,
    TenantNoticeSettings,
)
from nautobot_ssot_circuit_maintenance.models.decisions import DeletedMaintenance, MaintenanceOverride
from nautobot_ssot_circuit_maintenance.models.maintenance import (
    CircuitAlias,
    CircuitImpact,
    CircuitMaintenance,
    MaintenanceFlag,
    MaintenanceNote,
)
from nautobot_ssot_circuit_maintenance.models.notice_templates import NoticeTemplate
from nautobot_ssot_circuit_maintenance.models.notifications import (
    NotificationSource,
    ParsedNotification,
    PushedMessage,
    RawNotification,
    SourceOAuthToken,
)
from nautobot_ssot_circuit_maintenance.models.querysets import (
    FINISHED_STATUSES,
    TRIAGE_OUTCOMES,
    CircuitMaintenanceQuerySet,
    RawNotificationQuerySet,
    starting_soon_hours,
)

__all__ = [
    "ActionRule",
    "ActionRun",
    "FINISHED_STATUSES",
    "TRIAGE_OUTCOMES",
    "CalendarFeedToken",
    "CircuitAlias",
    "CircuitImpact",
    "CircuitMaintenance",
    "CircuitMaintenanceQuerySet",
    "CustomerNotice",
    "CustomerNoticeRecipient",
    "CustomerNoticeTemplate",
    "DeletedMaintenance",
    "MaintenanceFlag",
    "MaintenanceNote",
    "MaintenanceOverride",
    "MaintenanceSilence",
    "NoticeTemplate",
    "NotificationSource",
    "ParsedNotification",
    "PushedMessage",
    "RawNotification",
    "RawNotificationQuerySet",
    "SourceOAuthToken",
    "TenantNoticeSettings",
    "starting_soon_hours",
]
