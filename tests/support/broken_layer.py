"""A channel layer whose sends fail, as Redis does when it is down (for delivery tests)."""

from __future__ import annotations

from typing import Any

from channels.layers import InMemoryChannelLayer


class BrokenChannelLayer(InMemoryChannelLayer):  # type: ignore[misc]  # channels ships no types
    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        raise ConnectionError("redis is down")
