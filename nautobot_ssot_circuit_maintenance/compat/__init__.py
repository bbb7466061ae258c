"""Workarounds for the libraries under the app, each fenced in one module here with a test (tests/test_compat.py).

When a library changes what a workaround relies on, its test fails loudly instead of the app misbehaving
quietly. One module per library surface: `parser` (circuit-maintenance-parser, BeautifulSoup), `changelog`
(change logging of bulk writes), `releases` (what Nautobot 3.0 to 3.2 do differently), `panels` (table
panels), `jobs` (running a job in any thread), `responses` (Django's request log, DRF's CSRF refusal),
`ssot` (nautobot-ssot's DataSource run once per chunk), `approvals` (Nautobot's approval workflows, as customer
notices use them).
"""
