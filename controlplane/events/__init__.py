"""The event log: recording, ingestion, inbound webhooks, live stream."""
