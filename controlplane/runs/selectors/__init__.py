"""Reads for runs, logs and artifacts."""
