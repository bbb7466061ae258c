"""The app's jobs, registered with Nautobot; each is defined in the package of its feature."""

from nautobot.apps.jobs import register_jobs

from nautobot_ssot_circuit_maintenance.actions.jobs import (
    CheckMaintenanceReach,
    RunMaintenanceActions,
    SendMaintenanceDigest,
    SyncAlertmanagerSilences,
    SyncAlertmanagerSilencesOnChange,
)
from nautobot_ssot_circuit_maintenance.customers.jobs import DraftCustomerNotices, SendCustomerNotices
from nautobot_ssot_circuit_maintenance.events.jobs import PublishLiveStateEvents
from nautobot_ssot_circuit_maintenance.flags.jobs import MaintenanceFlagsReport
from nautobot_ssot_circuit_maintenance.older_app.jobs import OlderAppImportDataSource
from nautobot_ssot_circuit_maintenance.sync.jobs import CircuitMaintenanceDataSource, ReparseDataSource

jobs = [
    CircuitMaintenanceDataSource,
    ReparseDataSource,
    OlderAppImportDataSource,
    MaintenanceFlagsReport,
    PublishLiveStateEvents,
    SyncAlertmanagerSilences,
    SyncAlertmanagerSilencesOnChange,
    DraftCustomerNotices,
    SendCustomerNotices,
    RunMaintenanceActions,
    SendMaintenanceDigest,
    CheckMaintenanceReach,
]
register_jobs(*jobs)
