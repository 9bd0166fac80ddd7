"""Flows, deployments, schedules, parameter schemas, variables."""
