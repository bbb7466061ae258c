"""Notice templates: how to read the mail of a provider circuit-maintenance-parser has no parser for.

A template (the `NoticeTemplate` model) says, per provider, where its notices write the maintenance id, the
window, the circuit ids, the status and the impact. `spec.py` is its vocabulary and validation, `document.py`
what of a message a template can read, `extract.py` turns both into the parser library's `Maintenance`
objects (pure: no database). Elsewhere: trying a template on stored mail (`intake/template_trial.py`), templates
as JSON files (`models/template_files.py`), and parsers installed under the `nautobot_ssot_circuit_maintenance.parsers`
entry point group (`site_parsers.py`).
"""
