"""Acting on a maintenance outside the records: one module per kind of action, each with what it keeps and its job.

`silences.py` keeps an Alertmanager silence for what a maintenance affects (its HTTP client in `alertmanager.py`);
`jobs.py` holds the jobs that run the actions, scheduled or as Job Hook receivers.
"""
