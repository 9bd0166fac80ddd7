"""The agent control channel: `ws/v1/orgs/<org>/workspaces/<ws>/agents/<agent_id>`.

It carries signals only — `{"type": "wake", "pool_id"}` when the agent's pool has a run to
claim, `{"type": "cancel", "run_id"}` when one of its runs enters CANCELLING — never state:
the agent still claims and heartbeats over HTTPS, so a missed signal costs latency, not
correctness.

The agent authenticates on connect with its key in the `Authorization: Bearer …` header of
the handshake (agents are not browsers and can send headers; a key in the URL would end up
in proxy logs). The key must reach the workspace with the `runs:claim` scope, and the agent
must be one of that workspace's: otherwise the handshake is refused (403), the same for an
agent that does not exist and one of another tenant.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.core.exceptions import ObjectDoesNotExist
from rest_framework.exceptions import APIException

from controlplane.apikeys.authentication import ApiKeyAuthentication
from controlplane.apikeys.models import ApiKey
from controlplane.core.errors import TetherError
from controlplane.core.tenancy import tenant_scope
from controlplane.orgs.access import resolve_workspace_access
from controlplane.orgs.models import ServiceAccount
from controlplane.orgs.principals import Principal
from controlplane.orgs.roles import Scope
from controlplane.workpools.dispatch.push import agent_group, pool_group
from controlplane.workpools.models import Agent

logger = logging.getLogger(__name__)


class _HandshakeRequest:
    """Just enough of a request for the HTTP key authentication to read the header."""

    def __init__(self, headers: list[tuple[bytes, bytes]]) -> None:
        value = next((v for k, v in headers if k.lower() == b"authorization"), b"").decode("latin-1")
        self.headers = {"authorization": value}
        self.META = {"HTTP_AUTHORIZATION": value}


def _agent_for_key(
    headers: list[tuple[bytes, bytes]], org_slug: str, ws_slug: str, agent_id: uuid.UUID
) -> Agent | None:
    """The agent, if the handshake's key may claim for it; None otherwise (never says why)."""
    try:
        authenticated = ApiKeyAuthentication().authenticate(_HandshakeRequest(headers))  # type: ignore[arg-type]
    except APIException:
        return None
    if authenticated is None or not isinstance(authenticated[1], ApiKey):
        return None  # run tokens never open the control channel
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
    if Scope.RUNS_CLAIM not in access.scopes:
        return None
    with tenant_scope(organization_id=access.organization.id, workspace_id=access.workspace.id):
        agent: Agent | None = Agent.objects.filter(pk=agent_id).first()
        return agent


class AgentConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    groups: list[str] = []

    async def connect(self) -> None:
        route = self.scope["url_route"]["kwargs"]
        agent = await database_sync_to_async(_agent_for_key)(
            self.scope.get("headers", []), route["org_slug"], route["ws_slug"], route["agent_id"]
        )
        if agent is None:
            await self.close()
            return
        self.agent_groups = [pool_group(agent.pool_id), agent_group(agent.id)]
        for group in self.agent_groups:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "agent_groups", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def dispatch_wake(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "wake", "pool_id": event["pool_id"]})

    async def dispatch_cancel(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "cancel", "run_id": event["run_id"]})
