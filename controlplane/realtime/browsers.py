"""The web UI's live channel: `ws/v1/orgs/<org>/workspaces/<ws>/live`.

A signed-in browser (the Django session cookie, as for the API) opens one per workspace it
shows. Access is resolved exactly as for the API; anything the user cannot see is refused
the same way as a workspace that does not exist. The server then sends

- `{"type": "ready"}` once, after the handshake;
- `{"type": "flow_run", "flow_run_id", "state_type", "state_name", "deployment_id"}` when any
  run of the workspace changes state (or is created);
- `{"type": "logs", "flow_run_id"}` when lines arrive for a run the browser subscribed to
  with `{"type": "subscribe", "flow_run_id"}` (and `unsubscribe` to stop);
- after `{"type": "subscribe_events"}` (until `{"type": "unsubscribe_events"}`), every event
  recorded in the workspace as `{"type": "event", "event": {"id", "event", "occurred",
  "resource", "related", "payload", "received"}}` (as the events API lists them). At most
  `EVENTS_PER_SECOND` are forwarded per socket each second; the others are counted and
  reported, at most once a second, as `{"type": "events_dropped", "count": n}` (refetch
  through the events API to see them).

Run and log messages are hints to refetch through the API, never the data itself. Access is checked
again at most every `RECHECK_SECONDS` before forwarding, so a member removed from the
workspace stops hearing about it (and the socket closes) even without a push to close it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.core.exceptions import ObjectDoesNotExist

from controlplane.accounts.models import User
from controlplane.core.errors import TetherError
from controlplane.orgs.access import resolve_workspace_access
from controlplane.orgs.principals import Principal
from controlplane.orgs.roles import Scope
from controlplane.realtime.groups import CLOSE_TRY_AGAIN_LATER, join, leave
from controlplane.realtime.live import user_live_group, workspace_events_group, workspace_live_group

RECHECK_SECONDS = 30.0
MAX_SUBSCRIPTIONS = 100
# A browser shows a feed, not a firehose: a burst beyond this many per window is counted, not sent.
EVENTS_PER_SECOND = 100
EVENTS_WINDOW_SECONDS = 1.0
# A policy-violation close: the browser should not reconnect on its own.
CLOSE_FORBIDDEN = 4403


def _workspace_id_for(user: Any, org_slug: str, ws_slug: str) -> uuid.UUID | None:
    """The workspace's id if the signed-in user may read it; None otherwise (never says why)."""
    if not isinstance(user, User) or not user.is_authenticated or not user.is_active:
        return None
    try:
        access = resolve_workspace_access(Principal(kind="user", user=user), org_slug, ws_slug)
    except (TetherError, ObjectDoesNotExist):
        return None
    if Scope.WORKSPACE_READ not in access.scopes:
        return None
    workspace_id: uuid.UUID = access.workspace.id
    return workspace_id


def _fresh_user(user_id: uuid.UUID) -> User | None:
    return User.objects.filter(pk=user_id).first()


class BrowserLiveConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    groups: list[str] = []

    async def connect(self) -> None:
        route = self.scope["url_route"]["kwargs"]
        self.org_slug, self.ws_slug = route["org_slug"], route["ws_slug"]
        user = self.scope.get("user")
        workspace_id = await database_sync_to_async(_workspace_id_for)(user, self.org_slug, self.ws_slug)
        if workspace_id is None:
            await self.close()
            return
        self.user_id: uuid.UUID = user.pk
        self.checked_at = time.monotonic()
        self.subscriptions: set[str] = set()
        self.live_groups = [workspace_live_group(workspace_id), user_live_group(user.pk)]
        self.events_group = workspace_events_group(workspace_id)
        self.events_subscribed = False
        self.events_window_start = float("-inf")  # the first batch opens the first window
        self.events_sent_in_window = 0
        self.events_dropped = 0
        self.dropped_notice: asyncio.Task[None] | None = None
        if not await join(self, self.live_groups):
            await self.close(code=CLOSE_TRY_AGAIN_LATER)
            return
        await self.accept()
        await self.send_json({"type": "ready"})

    async def disconnect(self, code: int) -> None:
        events = [self.events_group] if getattr(self, "events_subscribed", False) else []
        await leave(self, [*getattr(self, "live_groups", []), *events])
        notice = getattr(self, "dropped_notice", None)
        if notice is not None:
            notice.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await notice

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "ping":
            await self.send_json({"type": "pong"})
        elif kind in ("subscribe", "unsubscribe"):
            await self._change_subscription(kind, content.get("flow_run_id"))
        elif kind == "subscribe_events" and not self.events_subscribed:
            # Its own group: sockets that never subscribe are not sent a copy of every event.
            if not await join(self, [self.events_group]):
                await self.close(code=CLOSE_TRY_AGAIN_LATER)  # the page polls, then reconnects
                return
            self.events_subscribed = True
        elif kind == "unsubscribe_events" and self.events_subscribed:
            await leave(self, [self.events_group])
            self.events_subscribed = False
        elif kind not in ("subscribe_events", "unsubscribe_events"):
            message = "expected ping, subscribe, unsubscribe, subscribe_events or unsubscribe_events"
            await self.send_json({"type": "error", "message": message})

    async def _change_subscription(self, kind: str, raw_id: Any) -> None:
        try:
            run_id = str(uuid.UUID(str(raw_id)))
        except ValueError:
            await self.send_json({"type": "error", "message": "flow_run_id must be a UUID"})
            return
        if kind == "unsubscribe":
            self.subscriptions.discard(run_id)
        elif len(self.subscriptions) >= MAX_SUBSCRIPTIONS:
            await self.send_json({"type": "error", "message": f"at most {MAX_SUBSCRIPTIONS} subscriptions"})
        else:
            # Ids of other workspaces need no check: only this workspace's events reach this socket.
            self.subscriptions.add(run_id)

    async def _still_allowed(self) -> bool:
        if time.monotonic() - self.checked_at < RECHECK_SECONDS:
            return True

        def check() -> bool:
            return _workspace_id_for(_fresh_user(self.user_id), self.org_slug, self.ws_slug) is not None

        allowed: bool = await database_sync_to_async(check)()
        self.checked_at = time.monotonic()
        if not allowed:
            await self.close(code=CLOSE_FORBIDDEN)
        return allowed

    async def live_flow_run(self, event: dict[str, Any]) -> None:
        if await self._still_allowed():
            await self.send_json({**{k: v for k, v in event.items() if k != "type"}, "type": "flow_run"})

    async def live_logs(self, event: dict[str, Any]) -> None:
        watched = [run_id for run_id in event["flow_run_ids"] if run_id in self.subscriptions]
        if watched and await self._still_allowed():
            for run_id in watched:
                await self.send_json({"type": "logs", "flow_run_id": run_id})

    async def live_events(self, message: dict[str, Any]) -> None:
        if not self.events_subscribed or not await self._still_allowed():
            return
        events: list[dict[str, Any]] = message["events"]
        allowed = min(len(events), self._events_budget())
        self.events_sent_in_window += allowed
        for event in events[:allowed]:
            await self.send_json({"type": "event", "event": event})
        dropped = len(events) - allowed + int(message.get("omitted", 0))
        if dropped:
            self.events_dropped += dropped
            if self.dropped_notice is None:
                self.dropped_notice = asyncio.create_task(self._report_dropped_at_window_end())

    def _events_budget(self) -> int:
        now = time.monotonic()
        if now - self.events_window_start >= EVENTS_WINDOW_SECONDS:
            self.events_window_start, self.events_sent_in_window = now, 0
        return max(0, EVENTS_PER_SECOND - self.events_sent_in_window)

    async def _report_dropped_at_window_end(self) -> None:
        # One notice per window, however many batches were cut: the notice must not flood either.
        await asyncio.sleep(max(0.0, self.events_window_start + EVENTS_WINDOW_SECONDS - time.monotonic()))
        count, self.events_dropped, self.dropped_notice = self.events_dropped, 0, None
        if count:
            await self.send_json({"type": "events_dropped", "count": count})

    async def live_access_changed(self, event: dict[str, Any]) -> None:
        self.checked_at = float("-inf")
        await self._still_allowed()
