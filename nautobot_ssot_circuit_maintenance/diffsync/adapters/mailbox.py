"""Source adapter: the maintenances the notifications imply."""

from __future__ import annotations

from diffsync import Adapter

from ...ingest import MailIngest
from ..models import MaintenanceModel, circuit_entry, window_entry


class MailboxAdapter(Adapter):
    maintenance = MaintenanceModel
    top_level = ["maintenance"]

    def __init__(self, *args, ingest: MailIngest, job=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.ingest = ingest
        self.job = job

    def load(self) -> None:
        for resolved in self.ingest.maintenances.values():
            state = resolved.state
            self.add(
                self.maintenance(
                    provider=resolved.provider_name,
                    maintenance_id=state.maintenance_id,
                    name=state.maintenance_id,
                    description=state.description,
                    status=state.status,
                    start_time=state.start_time,
                    end_time=state.end_time,
                    windows=[window_entry(start, end) for start, end in state.windows],
                    circuits=sorted(circuit_entry(cid, impact) for cid, impact in resolved.circuits.items()),
                    unresolved_circuit_ids=resolved.unresolved,
                )
            )
