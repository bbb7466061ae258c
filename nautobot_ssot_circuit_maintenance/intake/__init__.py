"""The intake: one module per step, from mailboxes to the state the mail implies.

- `read`: sources → messages (each batch through the parse pool), new ones only (dedupe).
- `bounds`: what one message may cost.
- `parse`: the per-message boundary (headers, dates, bounds, the parser, what PostgreSQL accepts).
- `workers`, `worker_main`: a pool of worker processes that runs `parse` with a deadline and a memory limit.
- `history`: stored notices in, new ones out, folded together (`intake/fold.py`, pure) into each maintenance's state.
- `resolve`: circuit IDs matched to Nautobot circuits (in SQL, normalised like `fold.normalize_cid`).
- `intake`: the run's mail as `Chunk`s, each with the states it implies: what the sync job asks for.
- `commit`: a chunk's notifications stored and linked, then its cursors moved.

The maintenances themselves are written by the target adapter (`sync/diffsync/adapters/nautobot.py`).
"""
