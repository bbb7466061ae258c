"""The import from nautobot-circuit-maintenance, shaped like an nautobot-ssot integration.

Its job, its reader of the older tables, its diffsync models and adapters, and its old addresses.
"""
