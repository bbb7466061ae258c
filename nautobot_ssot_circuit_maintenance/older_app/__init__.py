"""older_app."""
