"""The sync's two sides: the maintenances a chunk of mail implies, and those Nautobot holds."""
