"""`nautobot-server` commands of the app."""
