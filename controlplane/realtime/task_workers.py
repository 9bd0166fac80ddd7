"""The task-worker channel: `ws/v1/orgs/<org>/workspaces/<ws>/task-workers`.

A worker connects with its key (realtime/handshake.py), then says which task keys it serves:
`{"type": "subscribe", "task_keys": [...]}` (answered by `{"type": "subscribed", "count": n}`).
From then on it receives `{"type": "wake", "task_key"}` whenever a run of one of those keys is
queued or handed back. Signals only: the worker still claims over HTTPS, and a missed wake
costs latency, never a run.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from controlplane.realtime.groups import CLOSE_TRY_AGAIN_LATER, join, leave
from controlplane.realtime.handshake import claim_access, handshake_user_id
from controlplane.realtime.live import user_live_group
from controlplane.runs.services.background_push import task_key_group

CLOSE_FORBIDDEN = 4403
TASK_KEYS_MAX = 100
TASK_KEY_MAX_LENGTH = 255


def _valid_keys(raw: Any) -> list[str] | None:
    if not isinstance(raw, list) or not 0 < len(raw) <= TASK_KEYS_MAX:
        return None
    if not all(isinstance(key, str) and 0 < len(key) <= TASK_KEY_MAX_LENGTH for key in raw):
        return None
    return sorted(set(raw))


class TaskWorkerConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    async def connect(self) -> None:
        route = self.scope["url_route"]["kwargs"]
        access = await database_sync_to_async(claim_access)(
            self.scope.get("headers", []), route["org_slug"], route["ws_slug"]
        )
        if access is None:
            await self.close()
            return
        self.workspace_id = access.workspace.id
        self.subscribed: list[str] = []
        self.user_groups: list[str] = []
        user_id = await database_sync_to_async(handshake_user_id)(self.scope.get("headers", []))
        if user_id is not None:  # a person's key: told when that person loses access
            self.user_groups.append(user_live_group(user_id))
        if not await join(self, self.user_groups):
            await self.close(code=CLOSE_TRY_AGAIN_LATER)
            return
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await leave(self, [*getattr(self, "subscribed", []), *getattr(self, "user_groups", [])])

    async def live_access_changed(self, event: dict[str, Any]) -> None:
        """The key's owner lost access somewhere (e.g. was removed): close unless the key still may claim here."""
        route = self.scope["url_route"]["kwargs"]
        access = await database_sync_to_async(claim_access)(
            self.scope.get("headers", []), route["org_slug"], route["ws_slug"]
        )
        if access is None:
            await self.close(code=CLOSE_FORBIDDEN)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "ping":
            await self.send_json({"type": "pong"})
            return
        if kind != "subscribe":
            await self.send_json({"type": "error", "message": "expected ping or subscribe"})
            return
        keys = _valid_keys(content.get("task_keys"))
        if keys is None:
            message = f"task_keys must be 1 to {TASK_KEYS_MAX} non-empty strings of at most {TASK_KEY_MAX_LENGTH}"
            await self.send_json({"type": "error", "message": message})
            return
        groups = [task_key_group(self.workspace_id, key) for key in keys]
        await leave(self, set(self.subscribed) - set(groups))
        if not await join(self, groups):
            await self.close(code=CLOSE_TRY_AGAIN_LATER)  # the worker long-polls and reconnects later
            return
        self.subscribed = groups
        await self.send_json({"type": "subscribed", "count": len(keys)})

    async def tasks_wake(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "wake", "task_key": event["task_key"]})
