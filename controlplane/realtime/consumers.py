"""Channels consumers."""

from __future__ import annotations

from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer


class PingConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    """Answers `{"type": "ping"}` with `{"type": "pong"}`.

    Carries no tenant data, so it needs no credentials; clients and `tether agent check`
    use it to prove that a WebSocket upgrade gets through their proxies.
    """

    async def connect(self) -> None:
        await self.accept()

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})
        else:
            await self.send_json({"type": "error", "message": 'expected {"type": "ping"}'})
