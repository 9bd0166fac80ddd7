"""The append-only audit log, written by services."""
