"""The SSoT sync job: chunks of new mail diffed against Nautobot and written, its lock, and starting it from elsewhere."""
