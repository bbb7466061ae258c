"""The sync's DiffSync models, adapters, log sentences and the run's merged diff."""
