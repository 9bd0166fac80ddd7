"""Flow runs, task runs, states, orchestration rules, logs, artifacts, idempotency."""
