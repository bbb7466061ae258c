"""older_app.diffsync."""
