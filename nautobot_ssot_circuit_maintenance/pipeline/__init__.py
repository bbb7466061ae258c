"""The intake: one module per step.

- `bounds`: what one message may cost.
- `parse`: the per-message boundary (headers, dates, bounds, the parser, what PostgreSQL accepts).
- `workers`: a pool of worker processes that runs `parse` with a deadline and a memory limit.
- `history`: the notices already stored for the maintenances a chunk touches.
- `resolve`: circuit IDs matched to Nautobot circuits (in SQL, normalised like `fold.normalize_cid`).

`ingest.MailIngest` still drives the steps for one run (reading sources, dedupe, fold, commit).
"""
