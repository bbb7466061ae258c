"""sync.diffsync."""
