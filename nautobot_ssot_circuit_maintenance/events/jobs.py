"""The "Record live-state transitions" job: run it on a schedule (every few minutes) so transitions are timely."""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from nautobot.apps.jobs import Job

from nautobot_ssot_circuit_maintenance.events.live import Transition, record_due_transitions

name = "Circuit Maintenance"  # Job grouping in the UI


def record_live_transitions(logger: logging.Logger | Any) -> list[Transition]:
    """Record (and publish) the transitions due now and log each; what the sync job calls after it writes."""
    transitions = record_due_transitions()
    quiet = Counter(transition.state for transition in transitions if not transition.logged)
    for transition in transitions:
        maintenance = transition.maintenance
        if transition.published:
            logger.info("Published %s for %s (%s)", transition.topic, maintenance, maintenance.provider.name)
        elif transition.logged:
            logger.info("Recorded live state %s for %s (%s)", transition.state, maintenance, maintenance.provider.name)
    for state, count in sorted(quiet.items()):
        logger.info("Recorded live state %s for %d maintenances long past that moment (not announced)", state, count)
    return transitions


class PublishLiveStateEvents(Job):
    """Record each maintenance's live-state transitions on it (change-logged) and publish them as events, once."""

    class Meta:
        """Meta attributes."""

        name = "Record live-state transitions"
        description = (
            "Record the live-state transitions of circuit maintenances (starting soon, in progress, overrunning, "
            "ended, cancelled) on them with a change-logged save, so Webhooks and Job Hooks on a maintenance's "
            "update fire, and publish them to Nautobot's event brokers, each once. Schedule it every few minutes."
        )
        has_sensitive_variables = False

    def run(self) -> None:
        """Record the transitions now due and log how many."""
        transitions = record_live_transitions(self.logger)
        published = sum(1 for transition in transitions if transition.published)
        self.logger.info("%d live-state transition(s) recorded, %d published", len(transitions), published)
