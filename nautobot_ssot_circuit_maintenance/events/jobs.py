"""The "Publish live-state events" job: run it on a schedule (every few minutes) so transitions are timely."""

from __future__ import annotations

import logging
from typing import Any

from nautobot.apps.jobs import Job

from nautobot_ssot_circuit_maintenance.events.live import publish_due_transitions

name = "Circuit Maintenance"  # Job grouping in the UI


def publish_live_events(logger: logging.Logger | Any) -> int:
    """Publish the transitions due now and log each; what the sync job calls after it writes."""
    published = publish_due_transitions()
    for event in published:
        logger.info("Published %s for %s (%s)", event.topic, event.maintenance, event.maintenance.provider.name)
    return len(published)


class PublishLiveStateEvents(Job):
    """Publish each maintenance's starting soon / in progress / overrunning / ended as a Nautobot event, once."""

    class Meta:
        """Meta attributes."""

        name = "Publish live-state events"
        description = (
            "Publish the live-state transitions of circuit maintenances (starting soon, in progress, overrunning, "
            "ended) to Nautobot's event brokers, each once. Schedule it every few minutes."
        )
        has_sensitive_variables = False

    def run(self) -> None:
        """Publish the transitions now due and log how many."""
        count = publish_live_events(self.logger)
        self.logger.info("%d live-state event(s) published", count)
