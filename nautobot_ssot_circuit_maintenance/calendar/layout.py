"""The calendar page's data: month, week and list layouts of maintenance windows, built on the server.

No JavaScript calendar: the grid is plain HTML from a template, so it needs no vendored library, works
with Nautobot's own theme and is what the tests (and a screen reader) read. All times are UTC, like
the rest of the app.
"""

from __future__ import annotations

import calendar as stdcalendar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from nautobot_ssot_circuit_maintenance.choices import LiveStateChoices
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance

VIEWS = ("month", "week", "list")


@dataclass(frozen=True)
class Entry:
    """One window of one maintenance, as shown on one day (or one row of the list)."""

    maintenance: CircuitMaintenance
    start: datetime
    end: datetime
    number: int
    count: int
    state: str
    continued: bool = False  # the window began on an earlier day

    @property
    def css_class(self) -> str:
        """The badge class of the window's live state."""
        return LiveStateChoices.CSS_CLASSES[self.state]

    @property
    def style(self) -> str:
        """The state's inline style, if any (the stripes of an overrunning window)."""
        return LiveStateChoices.CSS_STYLES.get(self.state, "")

    @property
    def state_label(self) -> str:
        """The live state as a person reads it."""
        return LiveStateChoices.as_dict()[self.state]

    @property
    def cancelled(self) -> bool:
        """Whether the maintenance was cancelled, so the entry is struck through."""
        return self.state == LiveStateChoices.CANCELLED

    @property
    def label(self) -> str:
        """The maintenance's label, with "(n/count)" when it has more than one window."""
        suffix = f" ({self.number}/{self.count})" if self.count > 1 else ""
        return f"{self.maintenance.label}{suffix}"


@dataclass
class Day:
    """One day cell of the month or week grid, with the window entries shown on it."""

    day: date
    in_range: bool
    today: bool
    entries: list[Entry] = field(default_factory=list)


@dataclass
class CalendarLayout:
    """One calendar page: its view, the days it covers, its title and navigation, its grid and entries."""

    view: str
    anchor: date
    start: date  # first day shown
    end: date  # day after the last day shown
    title: str
    previous: date
    next: date
    weeks: list[list[Day]]  # month and week views
    entries: list[Entry]  # list view (and every entry, in order)

    @property
    def range_start(self) -> datetime:
        """Midnight UTC of the first day shown."""
        return datetime.combine(self.start, time.min, tzinfo=timezone.utc)

    @property
    def range_end(self) -> datetime:
        """Midnight UTC of the day after the last day shown."""
        return datetime.combine(self.end, time.min, tzinfo=timezone.utc)


def date_range(view: str, anchor: date) -> tuple[date, date, str, date, date]:
    """(first day shown, day after the last, title, previous anchor, next anchor) for a view."""
    if view == "week":
        start = anchor - timedelta(days=anchor.weekday())
        end = start + timedelta(days=7)
        iso = start.isocalendar()
        return start, end, f"Week {iso.week}, {iso.year}", start - timedelta(days=7), end
    first = anchor.replace(day=1)
    last = first.replace(day=stdcalendar.monthrange(first.year, first.month)[1])
    previous = (first - timedelta(days=1)).replace(day=1)
    following = last + timedelta(days=1)
    title = first.strftime("%B %Y")
    if view == "list":
        return first, following, title, previous, following
    # Month grid: whole weeks, Monday first.
    start = first - timedelta(days=first.weekday())
    end = last + timedelta(days=7 - last.weekday())
    return start, end, title, previous, following


def entries_of(maintenances: list[CircuitMaintenance], start: datetime, end: datetime, now: datetime) -> list[Entry]:
    """Every window that overlaps [start, end), soonest first."""
    found = []
    for maintenance in maintenances:
        state = maintenance.current_live_state(now)
        windows = maintenance.window_times
        for number, (window_start, window_end) in enumerate(windows, start=1):
            if window_start < end and window_end >= start:
                found.append(Entry(maintenance, window_start, window_end, number, len(windows), state))
    return sorted(found, key=lambda e: (e.start, e.maintenance.name, e.number))


def build_layout(view: str, anchor: date, maintenances: list[CircuitMaintenance], now: datetime) -> CalendarLayout:
    """The calendar page for `view` around `anchor`: each window on every day it spans, in UTC."""
    start, end, title, previous, following = date_range(view, anchor)
    layout = CalendarLayout(view, anchor, start, end, title, previous, following, [], [])
    layout.entries = entries_of(maintenances, layout.range_start, layout.range_end, now)
    if view == "list":
        return layout
    today = now.astimezone(timezone.utc).date()
    days = [start + timedelta(days=n) for n in range((end - start).days)]
    by_day = {d: Day(d, view == "week" or d.month == anchor.month, d == today) for d in days}
    for entry in layout.entries:
        day = max(entry.start.astimezone(timezone.utc).date(), start)
        last = min(entry.end.astimezone(timezone.utc).date(), end - timedelta(days=1))
        if entry.end.astimezone(timezone.utc).timetz() == time.min.replace(tzinfo=timezone.utc) and last > day:
            last -= timedelta(days=1)  # ends at midnight: not on the next day
        while day <= last:
            continued = day > entry.start.astimezone(timezone.utc).date()
            by_day[day].entries.append(
                Entry(entry.maintenance, entry.start, entry.end, entry.number, entry.count, entry.state, continued)
            )
            day += timedelta(days=1)
    layout.weeks = [[by_day[d] for d in days[i : i + 7]] for i in range(0, len(days), 7)]
    return layout


def parse_anchor(value: Any, today: date) -> date:
    """`YYYY-MM-DD` or empty (today); ValueError with a message otherwise."""
    if value in (None, ""):
        return today
    try:
        parsed = date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"date: {str(value)[:40]!r} is not a date (YYYY-MM-DD)") from None
    if not 1900 <= parsed.year <= 9000:
        raise ValueError("date: the year must be between 1900 and 9000")
    return parsed
