"""Hand channel-layer messages (agent wake-ups, UI hints) to an event loop without waiting.

Request threads used to call `async_to_sync(layer.group_send)`: that starts an event loop
per call (and, with Redis, a connection per loop) and holds the request until Redis answers,
for a message that is only a hint. Here the send is scheduled on a long-lived loop and the
caller returns at once:

- the server's own loop when this process serves HTTP (the Channels consumers live there,
  so the in-memory layer of the embedded mode is used from the loop that owns it);
- otherwise (Celery, the service runner, management commands) one background loop thread.

Sync code that async code called (a consumer's database_sync_to_async) sends on the caller's
loop and waits, as before: that loop may end as soon as its caller does.

A message identical to one still waiting to be sent is dropped: a burst of run creations
wakes a pool once, not once per run. At most `MAX_SENDS_IN_FLIGHT` sends run at once per loop
(the others queue), so a burst does not open a Redis connection per message and run out. A
failed send is logged, never raised (RELIABILITY 36).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from concurrent.futures import Future
from typing import Any

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

_server_loop: asyncio.AbstractEventLoop | None = None
_background_loop: asyncio.AbstractEventLoop | None = None
_lock = threading.Lock()
_pending: set[str] = set()
MAX_SENDS_IN_FLIGHT = 32
_in_flight: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}


def serve_on(loop: asyncio.AbstractEventLoop) -> None:
    """Record the loop that serves this process's requests (called by the HTTP handler)."""
    global _server_loop
    _server_loop = loop


def _background() -> asyncio.AbstractEventLoop:
    global _background_loop
    with _lock:
        if _background_loop is None or _background_loop.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="tether-delivery", daemon=True).start()
            _background_loop = loop
        return _background_loop


def _target_loop() -> asyncio.AbstractEventLoop:
    if _server_loop is not None and _server_loop.is_running():
        return _server_loop
    return _background()


def _called_from_async_code() -> bool:
    caller: asyncio.AbstractEventLoop | None = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    return caller is not None and caller.is_running()


def _sends_in_flight() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    semaphore = _in_flight.get(loop)
    if semaphore is None:  # only ever touched from its own loop: no lock needed
        semaphore = _in_flight[loop] = asyncio.Semaphore(MAX_SENDS_IN_FLIGHT)
    return semaphore


async def _send(layer: Any, group: str, message: dict[str, Any], key: str) -> None:
    async with _sends_in_flight():
        with _lock:
            _pending.discard(key)
        await layer.group_send(group, message)


def deliver(group: str, message: dict[str, Any]) -> None:
    """Send `message` to `group` soon; never blocks on, nor raises from, the channel layer."""
    layer = get_channel_layer()
    if layer is None:
        return
    if _called_from_async_code():
        # Sync code run by async code (a consumer, through sync_to_async): that loop may finish
        # as soon as the caller does, so send on it and wait, as asgiref would.
        try:
            async_to_sync(layer.group_send)(group, message)
        except Exception:
            logger.warning("%s to %s not delivered", message.get("type"), group, exc_info=True)
        return
    key = group + json.dumps(message, sort_keys=True, default=str)
    with _lock:
        if key in _pending:
            return
        _pending.add(key)
    try:
        future = asyncio.run_coroutine_threadsafe(_send(layer, group, message, key), _target_loop())
    except RuntimeError:
        with _lock:
            _pending.discard(key)
        logger.warning("%s to %s not delivered: no event loop", message.get("type"), group)
        return
    future.add_done_callback(lambda done: _log_failure(done, group, message, key))


def _log_failure(done: Future[None], group: str, message: dict[str, Any], key: str) -> None:
    with _lock:
        _pending.discard(key)
    error = None if done.cancelled() else done.exception()
    if error is not None:
        logger.warning("%s to %s not delivered", message.get("type"), group, exc_info=error)
