"""Channel layers for delivery tests: sends that fail, as Redis does when it is down, or that are slow."""

from __future__ import annotations

import asyncio
from typing import Any

from channels.layers import InMemoryChannelLayer


class BrokenChannelLayer(InMemoryChannelLayer):  # type: ignore[misc]  # channels ships no types
    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        raise ConnectionError("redis is down")


class SlowChannelLayer(InMemoryChannelLayer):  # type: ignore[misc]
    """Each send takes a while; records how many ran at once (for the in-flight bound)."""

    in_flight = 0
    most_in_flight = 0
    sent = 0

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        cls = type(self)
        cls.in_flight += 1
        cls.most_in_flight = max(cls.most_in_flight, cls.in_flight)
        await asyncio.sleep(0.01)
        cls.in_flight -= 1
        cls.sent += 1


class UnreachableChannelLayer(InMemoryChannelLayer):  # type: ignore[misc]
    """Every group operation fails as channels_redis does when Redis is down."""

    async def group_add(self, group: str, channel: str) -> None:
        raise ConnectionRefusedError("redis is down")

    async def group_discard(self, group: str, channel: str) -> None:
        raise ConnectionRefusedError("redis is down")
