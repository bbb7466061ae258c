"""The intake: one module per step.

- `bounds`: what one message may cost.
- `parse`: the per-message boundary (headers, dates, bounds, the parser, what PostgreSQL accepts).
- `workers`: a pool of worker processes that runs `parse` with a deadline and a memory limit.
"""
