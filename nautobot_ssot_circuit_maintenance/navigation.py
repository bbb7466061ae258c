"""Menu: a "Circuit Maintenance" group under the Circuits tab."""

from nautobot.apps.ui import NavigationIconChoices, NavigationWeightChoices, NavMenuGroup, NavMenuItem, NavMenuTab

from nautobot_ssot_circuit_maintenance.config import URL_NAMESPACE

_PERM = "nautobot_ssot_circuit_maintenance"

menu_items = (
    NavMenuTab(
        name="Circuits",
        icon=NavigationIconChoices.CIRCUITS,
        weight=NavigationWeightChoices.CIRCUITS,
        groups=(
            NavMenuGroup(
                name="Circuit Maintenance",
                weight=300,
                items=(
                    NavMenuItem(
                        link=f"{URL_NAMESPACE}:circuitmaintenance_list",
                        name="Circuit Maintenances",
                        weight=100,
                        permissions=[f"{_PERM}.view_circuitmaintenance"],
                    ),
                    NavMenuItem(
                        link=f"{URL_NAMESPACE}:overview",
                        name="Maintenance Overview",
                        weight=110,
                        permissions=[f"{_PERM}.view_circuitmaintenance"],
                    ),
                    NavMenuItem(
                        link=f"{URL_NAMESPACE}:calendar",
                        name="Maintenance Calendar",
                        weight=120,
                        permissions=[f"{_PERM}.view_circuitmaintenance"],
                    ),
                    NavMenuItem(
                        link=f"{URL_NAMESPACE}:circuitimpact_list",
                        name="Circuit Impacts",
                        weight=200,
                        permissions=[f"{_PERM}.view_circuitimpact"],
                    ),
                    NavMenuItem(
                        link=f"{URL_NAMESPACE}:maintenancenote_list",
                        name="Maintenance Notes",
                        weight=300,
                        permissions=[f"{_PERM}.view_maintenancenote"],
                    ),
                    NavMenuItem(
                        # The count is on the page's title and the home page (menu entries are static).
                        link=f"{URL_NAMESPACE}:triage_list",
                        name="Triage Queue",
                        weight=350,
                        permissions=[f"{_PERM}.view_rawnotification"],
                    ),
                    NavMenuItem(
                        link=f"{URL_NAMESPACE}:circuitalias_list",
                        name="Circuit Aliases",
                        weight=360,
                        permissions=[f"{_PERM}.view_circuitalias"],
                    ),
                    NavMenuItem(
                        link=f"{URL_NAMESPACE}:noticetemplate_list",
                        name="Notice Templates",
                        weight=370,
                        permissions=[f"{_PERM}.view_noticetemplate"],
                    ),
                    NavMenuItem(
                        link=f"{URL_NAMESPACE}:customernotice_list",
                        name="Customer Notices",
                        weight=375,
                        permissions=[f"{_PERM}.view_customernotice"],
                    ),
                    NavMenuItem(
                        link=f"{URL_NAMESPACE}:customernoticetemplate_list",
                        name="Customer Notice Templates",
                        weight=380,
                        permissions=[f"{_PERM}.view_customernoticetemplate"],
                    ),
                    NavMenuItem(
                        link=f"{URL_NAMESPACE}:tenantnoticesettings_list",
                        name="Tenant Notice Settings",
                        weight=390,
                        permissions=[f"{_PERM}.view_tenantnoticesettings"],
                    ),
                    NavMenuItem(
                        link=f"{URL_NAMESPACE}:rawnotification_list",
                        name="Raw Notifications",
                        weight=400,
                        permissions=[f"{_PERM}.view_rawnotification"],
                    ),
                    NavMenuItem(
                        link=f"{URL_NAMESPACE}:notificationsource_list",
                        name="Notification Sources",
                        weight=500,
                        permissions=[f"{_PERM}.view_notificationsource"],
                    ),
                    NavMenuItem(
                        link=f"{URL_NAMESPACE}:actionrule_list",
                        name="Action Rules",
                        weight=550,
                        permissions=[f"{_PERM}.view_actionrule"],
                    ),
                    NavMenuItem(
                        link="plugins:nautobot_ssot:dashboard",
                        name="SSoT Sync Dashboard",
                        weight=600,
                        permissions=["nautobot_ssot.view_sync"],
                    ),
                ),
            ),
        ),
    ),
)
