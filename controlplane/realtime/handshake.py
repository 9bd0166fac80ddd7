"""Key authentication for the WebSockets of agents and task workers.

They are not browsers and can send headers, so the key comes in the handshake's
`Authorization: Bearer …` header (a key in the URL would end up in proxy logs). The key must
reach the workspace with the `runs:claim` scope; anything else is refused without saying why.
"""

from __future__ import annotations

import uuid

from django.core.exceptions import ObjectDoesNotExist
from rest_framework.exceptions import APIException

from controlplane.apikeys.authentication import ApiKeyAuthentication
from controlplane.apikeys.models import ApiKey
from controlplane.apikeys.tokens import parse_key
from controlplane.core.errors import TetherError
from controlplane.orgs.access import WorkspaceAccess, resolve_workspace_access
from controlplane.orgs.models import ServiceAccount
from controlplane.orgs.principals import Principal
from controlplane.orgs.roles import Scope


class _HandshakeRequest:
    """Just enough of a request for the HTTP key authentication to read the header."""

    def __init__(self, headers: list[tuple[bytes, bytes]]) -> None:
        value = next((v for k, v in headers if k.lower() == b"authorization"), b"").decode("latin-1")
        self.headers = {"authorization": value}
        self.META = {"HTTP_AUTHORIZATION": value}


def claim_access(headers: list[tuple[bytes, bytes]], org_slug: str, ws_slug: str) -> WorkspaceAccess | None:
    """The workspace access of the handshake's key if it may claim work there; None otherwise."""
    try:
        authenticated = ApiKeyAuthentication().authenticate(_HandshakeRequest(headers))  # type: ignore[arg-type]
    except APIException:
        return None
    if authenticated is None or not isinstance(authenticated[1], ApiKey):
        return None  # run tokens never open a control channel
    caller, key = authenticated[0], authenticated[1]
    principal = (
        Principal(kind="service_account", service_account=caller, api_key=key)
        if isinstance(caller, ServiceAccount)
        else Principal(kind="user", user=caller, api_key=key)
    )
    try:
        access = resolve_workspace_access(principal, org_slug, ws_slug)
    except (TetherError, ObjectDoesNotExist):
        return None
    return access if Scope.RUNS_CLAIM in access.scopes else None


def handshake_user_id(headers: list[tuple[bytes, bytes]]) -> uuid.UUID | None:
    """The user whose personal key the handshake carries (None for a service account's key).

    Called once the key has been accepted: a socket opened with a person's key must close
    when that person loses access, as their browser sockets do (realtime/live.py).
    """
    parts = _HandshakeRequest(headers).headers["authorization"].split()
    parsed = parse_key(parts[1]) if len(parts) == 2 else None
    if parsed is None:
        return None
    user_id: uuid.UUID | None = (
        ApiKey.dangerously_unscoped.filter(prefix=parsed.lookup_prefix).values_list("user_id", flat=True).first()
    )
    return user_id
