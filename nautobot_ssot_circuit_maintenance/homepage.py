"""Home page: what is under maintenance now and next, and links to the app's records."""

from django.db.models import Count
from django.utils import timezone
from nautobot.apps.ui import HomePageItem, HomePagePanel

from nautobot_ssot_circuit_maintenance.config import URL_NAMESPACE
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance, RawNotification
from nautobot_ssot_circuit_maintenance.triage.actions import triage_count

UPCOMING_DAYS = 14
UPCOMING_ROWS = 10


def upcoming_maintenances(request):
    """Maintenances not finished, ending after now and starting within UPCOMING_DAYS, soonest first."""
    now = timezone.now()
    return (
        CircuitMaintenance.objects.restrict(request.user, "view")
        .upcoming(UPCOMING_DAYS, now=now)
        .select_related("provider")
        .prefetch_related("superseded_by")  # each row's live state asks: one query for the panel
        .annotate(circuit_count=Count("circuit_impacts"))
        .order_by("start_time", "maintenance_id")[:UPCOMING_ROWS]
    )


layout = (
    HomePagePanel(
        name="Circuit Maintenance",
        weight=550,
        items=(
            HomePageItem(
                name="Circuit Maintenances",
                link=f"{URL_NAMESPACE}:circuitmaintenance_list",
                model=CircuitMaintenance,
                description="Planned work announced by providers",
                permissions=["nautobot_ssot_circuit_maintenance.view_circuitmaintenance"],
                weight=100,
            ),
            HomePageItem(
                name="Notifications",
                link=f"{URL_NAMESPACE}:rawnotification_list",
                model=RawNotification,
                description="Provider mail read by the sync, with its outcome",
                permissions=["nautobot_ssot_circuit_maintenance.view_rawnotification"],
                weight=200,
            ),
            HomePageItem(
                name="Triage queue",
                custom_template="item_triage_queue.html",
                custom_data={"triage_count": lambda request: triage_count(request.user)},
                permissions=["nautobot_ssot_circuit_maintenance.view_rawnotification"],
                weight=300,
            ),
        ),
    ),
    HomePagePanel(
        name=f"Circuit Maintenances, next {UPCOMING_DAYS} days",
        weight=560,
        permissions=["nautobot_ssot_circuit_maintenance.view_circuitmaintenance"],
        custom_data={"upcoming_maintenances": upcoming_maintenances},
        custom_template="panel_upcoming_maintenances.html",
    ),
)
