"""The agent control channel: `ws/v1/orgs/<org>/workspaces/<ws>/agents/<agent_id>`.

It carries signals only — `{"type": "wake", "pool_id"}` when the agent's pool has a run to
claim, `{"type": "cancel", "run_id"}` when one of its runs enters CANCELLING — never state:
the agent still claims and heartbeats over HTTPS, so a missed signal costs latency, not
correctness.

The agent authenticates on connect with its key in the handshake's `Authorization` header
(realtime/handshake.py), and must be one of that workspace's: otherwise the handshake is
refused (403), the same for an agent that does not exist and one of another tenant.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from controlplane.core.tenancy import tenant_scope
from controlplane.realtime.groups import CLOSE_TRY_AGAIN_LATER, join, leave
from controlplane.realtime.handshake import claim_access, handshake_user_id
from controlplane.realtime.live import user_live_group
from controlplane.workpools.dispatch.push import agent_group, pool_group
from controlplane.workpools.models import Agent

logger = logging.getLogger(__name__)

# A policy-violation close, as for browsers: the key no longer reaches this agent.
CLOSE_FORBIDDEN = 4403


def _agent_for_key(
    headers: list[tuple[bytes, bytes]], org_slug: str, ws_slug: str, agent_id: uuid.UUID
) -> Agent | None:
    """The agent, if the handshake's key may claim for it; None otherwise (never says why)."""
    access = claim_access(headers, org_slug, ws_slug)
    if access is None:
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
        user_id = await database_sync_to_async(handshake_user_id)(self.scope.get("headers", []))
        if user_id is not None:
            self.agent_groups.append(user_live_group(user_id))  # told when that person loses access
        if not await join(self, self.agent_groups):
            await self.close(code=CLOSE_TRY_AGAIN_LATER)
            return
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await leave(self, getattr(self, "agent_groups", []))

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def dispatch_wake(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "wake", "pool_id": event["pool_id"]})

    async def dispatch_cancel(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "cancel", "run_id": event["run_id"]})

    async def live_access_changed(self, event: dict[str, Any]) -> None:
        """The key's owner lost access somewhere (e.g. was removed): close unless the key still reaches the agent."""
        route = self.scope["url_route"]["kwargs"]
        agent = await database_sync_to_async(_agent_for_key)(
            self.scope.get("headers", []), route["org_slug"], route["ws_slug"], route["agent_id"]
        )
        if agent is None:
            await self.close(code=CLOSE_FORBIDDEN)
