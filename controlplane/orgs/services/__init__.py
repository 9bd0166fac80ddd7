"""Writes for organisations, workspaces, members, invitations and service accounts."""
