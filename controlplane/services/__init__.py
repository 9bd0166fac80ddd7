"""Periodic services (scheduler, late runs, lease reaper, retention) and their runner."""
