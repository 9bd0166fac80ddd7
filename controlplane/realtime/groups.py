"""Joining and leaving channel-layer groups when the layer (Redis) may be down.

Sockets carry hints only: with Redis unreachable, a handshake is closed with 1013 ("try again
later") instead of failing inside the ASGI app, and clients fall back to polling (agents and
task workers to long-polls, browsers to refetching) until they reconnect (RELIABILITY 36).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

CLOSE_TRY_AGAIN_LATER = 1013
# What channels_redis raises when Redis is down or slow; the in-memory layer raises none of these.
LAYER_UNREACHABLE = (RedisError, OSError, TimeoutError)


async def join(consumer: Any, groups: Iterable[str]) -> bool:
    """Add the consumer's channel to `groups`; False (logged) when the channel layer cannot be reached."""
    try:
        for group in groups:
            await consumer.channel_layer.group_add(group, consumer.channel_name)
    except LAYER_UNREACHABLE as exc:
        logger.warning("WebSocket refused for now: the channel layer is unreachable (%s)", type(exc).__name__)
        return False
    return True


async def leave(consumer: Any, groups: Iterable[str]) -> None:
    """Remove the consumer's channel from `groups`; a layer that is down forgets it by itself (group expiry)."""
    try:
        for group in groups:
            await consumer.channel_layer.group_discard(group, consumer.channel_name)
    except LAYER_UNREACHABLE as exc:
        logger.info("Could not leave channel groups (%s); they expire on their own.", type(exc).__name__)
