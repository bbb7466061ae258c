"""REST API of the app."""
