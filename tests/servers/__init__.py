"""Real and loopback servers the tests talk to: Dovecot, a loopback Gmail, a fault-injecting proxy."""
