"""A person outranks mail: notices excluded or confirmed, maintenances overridden or deleted for good.

`actions` changes the records and recomputes the maintenances at once (refold.py); the views
and the REST API check permissions and input, then call it.
"""
