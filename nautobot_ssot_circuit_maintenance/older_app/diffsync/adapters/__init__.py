"""older_app.diffsync.adapters."""
