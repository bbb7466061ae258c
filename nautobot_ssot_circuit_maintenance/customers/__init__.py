"""Customer notices: tell each tenant a maintenance affects, once a person approved it, exactly once per recipient.

affected.py    which tenants a maintenance reaches and how badly (from models/reach.py and the flags)
recipients.py  who receives a tenant's notices (contact associations with the configured role, or an override)
render.py      the notice's subject and body (sandboxed Jinja2 templates) and its iCalendar (calendar/ical.py)
drafts.py      drafts made and kept up to date as maintenances change; one notice per overlapping windows
approval.py    a person's approval: Nautobot's approval workflow where defined, else the app's permission
send.py        the send, one message per recipient, under a per-recipient state machine
jobs.py        the draft and send jobs
"""
