"""What happens as the clock moves: live-state events published to Nautobot's event brokers, and Prometheus metrics."""
