"""Channels consumers: the agent control channel and UI live updates."""
