"""Organisations, workspaces, memberships, invitations, roles and scopes, service accounts."""
