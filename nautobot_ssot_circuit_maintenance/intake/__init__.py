"""The intake: one module per step, from mailboxes to the state the mail implies, read top-down.

- `connect`: a configured source opened (its mailbox from `sources/`, or the pushed messages, `pushed`).
- `read`: sources → messages (each batch through the parse pool), new ones only.
- `parse`: the per-message boundary (headers and bounds from `mail/`, the parser, what PostgreSQL accepts),
  run by `workers` / `worker_main` in worker processes with a deadline and a memory limit.
- `authenticate`: may this notice create or change a maintenance?
- `history`: stored notices in, new ones out, folded together by `fold` (pure) into each maintenance's state.
- `overrides`: a person's decisions applied over what the notices imply.
- `resolve`: circuit IDs matched to Nautobot circuits (in SQL, compared as `validation.normalize_cid` says).
- `chunks`: the run's mail as `chunk.Chunk`s, each with the states it implies: what the sync job asks for.
- `commit`: a chunk's notifications stored and linked, then its cursors moved.
- `reprocess`: the same path over stored mail (triage, re-parse); `provision`, `oauth`: sources and their consent.

The maintenances themselves are written by the sync's target adapter (`sync/diffsync/adapters/nautobot.py`).
"""
