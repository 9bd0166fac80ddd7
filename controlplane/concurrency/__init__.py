"""Global concurrency limits with leases, tag limits, deployment concurrency."""
