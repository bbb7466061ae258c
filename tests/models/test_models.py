"""The maintenance vocabulary in models/: querysets and window accessors, against PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from nautobot.apps.testing import TestCase
from nautobot.circuits.models import Provider

from nautobot_ssot_circuit_maintenance.choices import MaintenanceStatusChoices as Status
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def iso(value: datetime) -> str:
    return value.isoformat()


class MaintenanceVocabularyTestCase(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        provider = Provider.objects.create(name="Vocabulary Carrier")

        def make(name: str, status: str, windows: list[tuple[datetime, datetime]]) -> CircuitMaintenance:
            return CircuitMaintenance.objects.create(
                provider=provider,
                maintenance_id=name,
                name=name,
                status=status,
                start_time=min(start for start, _ in windows),
                end_time=max(end for _, end in windows),
                windows=[{"start": iso(start), "end": iso(end)} for start, end in windows],
            )

        cls.running = make("running", Status.CONFIRMED, [(NOW - HOUR, NOW + HOUR)])
        # Two nights: now falls between them.
        cls.between_nights = make(
            "between", Status.CONFIRMED, [(NOW - 12 * HOUR, NOW - 10 * HOUR), (NOW + 10 * HOUR, NOW + 12 * HOUR)]
        )
        cls.in_process = make("in-process", Status.IN_PROCESS, [(NOW + 2 * DAY, NOW + 2 * DAY + HOUR)])
        cls.next_month = make("next-month", Status.TENTATIVE, [(NOW + 30 * DAY, NOW + 30 * DAY + HOUR)])
        cls.cancelled = make("cancelled", Status.CANCELLED, [(NOW - HOUR, NOW + HOUR)])
        cls.completed_early = make("completed", Status.COMPLETED, [(NOW - HOUR, NOW + HOUR)])
        cls.ended_last_week = make("last-week", Status.CONFIRMED, [(NOW - 7 * DAY - HOUR, NOW - 7 * DAY)])

    def names(self, queryset) -> set[str]:
        return set(queryset.values_list("maintenance_id", flat=True))

    def test_unfinished_excludes_cancelled_and_completed(self):
        self.assertEqual(
            self.names(CircuitMaintenance.objects.unfinished()),
            {"running", "between", "in-process", "next-month", "last-week"},
        )

    def test_ended_within(self):
        self.assertEqual(
            self.names(CircuitMaintenance.objects.ended_within(0, now=NOW)),
            {"running", "between", "in-process", "next-month", "cancelled", "completed"},
        )
        self.assertIn("last-week", self.names(CircuitMaintenance.objects.ended_within(8, now=NOW)))

    def test_upcoming(self):
        self.assertEqual(
            self.names(CircuitMaintenance.objects.upcoming(14, now=NOW)), {"running", "between", "in-process"}
        )

    def test_active_now(self):
        candidates = CircuitMaintenance.objects.maybe_active(now=NOW)
        self.assertEqual(self.names(candidates), {"running", "between", "in-process"})
        self.assertEqual({m.maintenance_id for m in candidates if m.is_active(NOW)}, {"running", "in-process"})
        self.assertFalse(self.cancelled.is_active(NOW))
        self.assertTrue(self.completed_early.is_finished)

    def test_window_times(self):
        self.assertEqual(
            self.between_nights.window_times,
            [(NOW - 12 * HOUR, NOW - 10 * HOUR), (NOW + 10 * HOUR, NOW + 12 * HOUR)],
        )
        self.running.windows = []
        self.assertEqual(self.running.window_times, [(self.running.start_time, self.running.end_time)])

    def test_restricted_querysets_keep_the_vocabulary(self):
        self.user.is_superuser = True
        self.user.save()
        self.assertEqual(
            self.names(CircuitMaintenance.objects.restrict(self.user, "view").upcoming(14, now=NOW)),
            {"running", "between", "in-process"},
        )

    def test_open_first_puts_what_is_still_a_concern_first_soonest_first(self):
        overrunning = CircuitMaintenance.objects.create(
            provider=self.running.provider,
            maintenance_id="overrunning",
            name="overrunning",
            status=Status.IN_PROCESS,
            start_time=NOW - 5 * HOUR,
            end_time=NOW - 2 * HOUR,
        )
        ordered = list(CircuitMaintenance.objects.open_first(now=NOW).values_list("maintenance_id", flat=True))
        self.assertEqual(
            ordered,
            # Still a concern, by start (the overrunning one among them) ...
            ["between", overrunning.maintenance_id, "running", "in-process", "next-month"]
            # ... then what is over, the latest first (cancelled and completed whatever their windows say).
            + ["cancelled", "completed", "last-week"],
        )


class MaintenanceLabelTestCase(TestCase):
    """A maintenance as a person reads it, in lists, the calendar, panels and page titles."""

    def test_a_name_is_kept_and_an_opaque_identifier_becomes_provider_day_and_prefix(self):
        provider = Provider.objects.create(name="Amazon Web Services")
        start = datetime(2026, 12, 8, 23, 30, tzinfo=timezone.utc)
        digest = "a1b2c3d4" + "e" * 56
        hashed = CircuitMaintenance(provider=provider, maintenance_id=digest, name=digest, start_time=start)
        self.assertEqual(hashed.label, "Amazon Web Services 2026-12-08 (a1b2c3d4…)")
        self.assertEqual(str(hashed), hashed.label)
        for name in ("TTN-0002345678", "Planned work on the Frankfurt ring, phase two of three"):
            self.assertEqual(CircuitMaintenance(provider=provider, name=name, start_time=start).label, name)
