"""The triage queue: notifications that need a person, and the actions that resolve them."""
