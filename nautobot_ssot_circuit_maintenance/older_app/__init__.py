"""The import from nautobot-circuit-maintenance, shaped like an nautobot-ssot integration: its job, reader, diffsync models and adapters, and its old addresses."""
