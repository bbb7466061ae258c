"""sync.diffsync.adapters."""
