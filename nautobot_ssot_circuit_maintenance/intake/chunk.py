"""One chunk of a run: what the source adapter reads and `commit.commit_chunk` stores."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nautobot_ssot_circuit_maintenance.intake.history import MaintenanceKey
from nautobot_ssot_circuit_maintenance.intake.parse import ParsedMessage
from nautobot_ssot_circuit_maintenance.intake.read import SourceRun
from nautobot_ssot_circuit_maintenance.intake.resolve import ResolvedMaintenance


@dataclass
class Chunk:
    """One chunk of a run.

    Its new messages (per source, with the cursors that cover them) and the state of every maintenance they touch.
    """

    runs: list[SourceRun]
    maintenances: dict[MaintenanceKey, ResolvedMaintenance] = field(default_factory=dict)

    @property
    def messages(self) -> list[ParsedMessage]:
        """The new parsed messages of every source in this chunk."""
        return [message for run in self.runs for message in run.messages]

    @property
    def provider_names(self) -> dict[Any, str]:
        """The name of each provider whose maintenances the chunk touches, by provider pk."""
        return {resolved.provider_pk: resolved.provider_name for resolved in self.maintenances.values()}
