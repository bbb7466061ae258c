"""The SSoT sync job: chunks of new mail diffed against Nautobot and written.

With its lock, and `trigger` to start it from elsewhere (the watcher, push, triage).
"""
