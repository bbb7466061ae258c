"""New mail starts the sync within seconds: the IMAP IDLE watcher, and push and upload."""
