"""Source adapter: the maintenances one chunk of notifications implies."""

from __future__ import annotations

from diffsync import Adapter

from nautobot_ssot_circuit_maintenance.intake.chunk import Chunk
from nautobot_ssot_circuit_maintenance.sync.diffsync.models import ImpactModel, MaintenanceModel, window_entry


class MailboxAdapter(Adapter):
    """The maintenances and circuit impacts one chunk of notifications implies."""

    maintenance = MaintenanceModel
    impact = ImpactModel
    top_level = ["maintenance"]

    def __init__(self, *args, chunk: Chunk, job=None, **kwargs):
        """Hold the chunk whose resolved maintenances `load` reads."""
        super().__init__(*args, **kwargs)
        self.chunk = chunk
        self.job = job

    def load(self) -> None:
        """Add each maintenance the chunk resolved, with its circuits as child impacts."""
        for resolved in self.chunk.maintenances.values():
            state = resolved.state
            maintenance = self.maintenance(
                provider=resolved.provider_name,
                maintenance_id=state.maintenance_id,
                name=state.maintenance_id,
                description=state.description,
                status=state.status,
                start_time=state.start_time,
                end_time=state.end_time,
                windows=[window_entry(start, end) for start, end in state.windows],
                unresolved_circuit_ids=resolved.unresolved,
                provider_time_zone=state.time_zone,
            )
            self.add(maintenance)
            for cid, impact in sorted(resolved.circuits.items()):
                child = self.impact(
                    provider=resolved.provider_name, maintenance_id=state.maintenance_id, circuit=cid, impact=impact
                )
                self.add(child)
                maintenance.add_child(child)
