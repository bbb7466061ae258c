"""Filter sets."""

from __future__ import annotations

from datetime import timedelta

from nautobot.apps.testing import FilterTestCases

from nautobot_ssot_circuit_maintenance import filters
from nautobot_ssot_circuit_maintenance.models import (
    CircuitImpact,
    CircuitMaintenance,
    MaintenanceNote,
    NotificationSource,
    ParsedNotification,
    RawNotification,
)
from tests.fixtures.ui_data import T0, build_ui_data


class CircuitMaintenanceFilterSetTest(FilterTestCases.FilterTestCase):
    queryset = CircuitMaintenance.objects.all()
    filterset = filters.CircuitMaintenanceFilterSet
    generic_filter_tests = (
        ["maintenance_id"],
        ["name"],
        ["description"],
        ["provider", "provider__id"],
        ["provider", "provider__name"],
        ["status"],
        ["circuit", "circuit_impacts__circuit__id"],
        ["circuit", "circuit_impacts__circuit__cid"],
    )

    @classmethod
    def setUpTestData(cls) -> None:
        cls.data = build_ui_data()

    def test_ack(self) -> None:
        self.assertEqual(self.filterset({"ack": True}, self.queryset).qs.count(), 1)
        self.assertEqual(self.filterset({"ack": False}, self.queryset).qs.count(), 3)

    def test_time_ranges(self) -> None:
        after = (T0 + timedelta(hours=12)).isoformat()
        self.assertEqual(self.filterset({"start_time__gte": [after]}, self.queryset).qs.count(), 3)
        self.assertEqual(self.filterset({"start_time__lte": [after]}, self.queryset).qs.count(), 1)
        self.assertEqual(
            self.filterset({"end_time__gte": [(T0 + timedelta(days=8)).isoformat()]}, self.queryset).qs.count(), 3
        )

    def test_has_unresolved_circuit_ids(self) -> None:
        self.assertEqual(
            list(self.filterset({"has_unresolved_circuit_ids": True}, self.queryset).qs),
            [self.data.maintenances[0]],
        )
        self.assertEqual(self.filterset({"has_unresolved_circuit_ids": False}, self.queryset).qs.count(), 3)

    def test_q(self) -> None:
        self.assertEqual(self.filterset({"q": "CM-MAINT-1"}, self.queryset).qs.get(), self.data.maintenances[1])
        self.assertEqual(
            self.filterset({"q": "fibre work number 2"}, self.queryset).qs.get(), self.data.maintenances[2]
        )


class CircuitImpactFilterSetTest(FilterTestCases.FilterTestCase):
    queryset = CircuitImpact.objects.all()
    filterset = filters.CircuitImpactFilterSet
    generic_filter_tests = (
        ["maintenance", "maintenance__id"],
        ["circuit", "circuit__id"],
        ["circuit", "circuit__cid"],
        ["impact"],
    )

    @classmethod
    def setUpTestData(cls) -> None:
        build_ui_data()


class MaintenanceNoteFilterSetTest(FilterTestCases.FilterTestCase):
    queryset = MaintenanceNote.objects.all()
    filterset = filters.MaintenanceNoteFilterSet
    generic_filter_tests = (
        ["title"],
        ["maintenance", "maintenance__id"],
    )

    @classmethod
    def setUpTestData(cls) -> None:
        build_ui_data()

    def test_level(self) -> None:
        self.assertEqual(self.filterset({"level": ["WARNING"]}, self.queryset).qs.count(), 1)


class NotificationSourceFilterSetTest(FilterTestCases.FilterTestCase):
    queryset = NotificationSource.objects.all()
    filterset = filters.NotificationSourceFilterSet
    generic_filter_tests = (
        ["name"],
        ["source_type"],
        ["providers", "providers__id"],
        ["providers", "providers__name"],
    )

    @classmethod
    def setUpTestData(cls) -> None:
        build_ui_data()


class RawNotificationFilterSetTest(FilterTestCases.FilterTestCase):
    queryset = RawNotification.objects.all()
    filterset = filters.RawNotificationFilterSet
    generic_filter_tests = (
        ["sender"],
        ["subject"],
        ["source", "source__id"],
        ["source", "source__name"],
        ["provider", "provider__id"],
        ["provider", "provider__name"],
        ["outcome"],
    )

    @classmethod
    def setUpTestData(cls) -> None:
        cls.data = build_ui_data()

    def test_q(self) -> None:
        self.assertEqual(self.filterset({"q": "lunch"}, self.queryset).qs.count(), 1)
        self.assertEqual(self.filterset({"q": "provider-b.example"}, self.queryset).qs.count(), 1)

    def test_date_range(self) -> None:
        middle = (T0 - timedelta(days=2, hours=12)).isoformat()
        self.assertEqual(self.filterset({"date_after": [middle]}, self.queryset).qs.count(), 2)
        self.assertEqual(self.filterset({"date__lte": [middle]}, self.queryset).qs.count(), 1)


class ParsedNotificationFilterSetTest(FilterTestCases.FilterTestCase):
    queryset = ParsedNotification.objects.all()
    filterset = filters.ParsedNotificationFilterSet
    generic_filter_tests = (
        ["provider_maintenance_id"],
        ["maintenance", "maintenance__id"],
    )

    @classmethod
    def setUpTestData(cls) -> None:
        cls.data = build_ui_data()

    def test_raw_notification(self) -> None:
        raw = self.data.raw_notifications[1]
        self.assertEqual(self.filterset({"raw_notification": [raw.pk]}, self.queryset).qs.count(), 2)
        self.assertEqual(self.filterset({"raw_notification": [raw.message_key]}, self.queryset).qs.count(), 2)
