"""Tenant context, base models, fail-closed managers, error types, pagination."""
