"""Writes for runs: flow runs, task runs, logs, artifacts."""
