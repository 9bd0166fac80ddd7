"""Triggers, actions, notifications and SLAs."""
