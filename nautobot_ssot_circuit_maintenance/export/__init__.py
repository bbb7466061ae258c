"""Stored mail exported in bulk: a zip of `.eml` files with a manifest, for bug reports to the parser's maintainers.

Used by the raw notification list and the triage queue (`MailExportActions`) and by the REST API.
"""
