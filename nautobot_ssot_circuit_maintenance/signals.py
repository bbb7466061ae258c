"""Set-up that follows the database, and what follows a customer notice's approval workflow.

Custom fields, sources from the configuration, auto-attached providers, deleted maintenances remembered.
"""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from nautobot.apps import nautobot_database_ready

from nautobot_ssot_circuit_maintenance.compat.changelog import change_context_user
from nautobot_ssot_circuit_maintenance.config import APP_NAME
from nautobot_ssot_circuit_maintenance.customers.approval import WORKFLOW_STEPS
from nautobot_ssot_circuit_maintenance.decisions.actions import remember_deletion
from nautobot_ssot_circuit_maintenance.intake.provision import ensure_custom_fields, sync_sources_from_config
from nautobot_ssot_circuit_maintenance.models import CustomerNotice, NotificationSource
from nautobot_ssot_circuit_maintenance.models.customers import workflow_decided


@receiver(nautobot_database_ready, dispatch_uid=f"{APP_NAME}-database-ready")
def on_database_ready(sender, *, apps=None, **kwargs):
    """Once migrations ran: create the providers' custom fields and one NotificationSource per configured source."""
    ensure_custom_fields()
    sync_sources_from_config()


@receiver(post_save, sender="circuits.Provider", dispatch_uid=f"{APP_NAME}-provider-attach")
def attach_new_provider(sender, instance, created, **kwargs):
    """Attach a new provider to every source that attaches all providers."""
    if not created:
        return

    for source in NotificationSource.objects.filter(attach_all_providers=True):
        source.providers.add(instance)


@receiver(post_delete, sender=f"{APP_NAME}.CircuitMaintenance", dispatch_uid=f"{APP_NAME}-deleted")
def remember_deleted_maintenance(sender, instance, **kwargs):
    """A person (UI, REST, a job run by someone) deleted it: its notices so far never bring it back."""
    # Imported here: the decisions import the pipeline and adapters, which need the app registry ready.

    user = change_context_user()
    if user is not None:
        remember_deletion(instance, user)


@receiver(workflow_decided, sender=CustomerNotice, dispatch_uid=f"{APP_NAME}-notice-workflow")
def follow_notice_workflow(sender, notice, workflow, event, **kwargs):
    """Nautobot's approval workflow started, approved, denied or cancelled a customer notice: follow it."""
    WORKFLOW_STEPS[event](notice, workflow)
