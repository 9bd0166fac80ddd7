"""A WebSocket that only carries signals from the server (wake-ups, cancels), in its own thread.

It is a hint: when it cannot be opened (a proxy that refuses upgrades, a firewall) or drops,
the agent or task worker falls back to long-polls, while this thread keeps trying to
reconnect with exponential backoff and full jitter. Used by the agent's control channel
(tether.agent.control) and the task worker's wake channel (tether.task_worker.wakes).
"""

from __future__ import annotations

import json
import logging
import re
import ssl
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from tether._api import backoff_delay

RECONNECT_BASE_SECONDS = 1.0
RECONNECT_CAP_SECONDS = 60.0

# `https://host[:port][/prefix]/api/v1/orgs/<org>/workspaces/<ws>`: the workspace API URL.
WORKSPACE_PATH = re.compile(r"^(?P<prefix>.*)/api/v1/orgs/(?P<org>[^/]+)/workspaces/(?P<ws>[^/]+)/?$")

# Called with a function that sends one JSON message, once per (re)connection.
OnOpen = Callable[[Callable[[dict[str, Any]], None]], None]


def websocket_url(api_url: str, path: str) -> str:
    """`ws(s)://host/<prefix>/<path>` on the same origin as the workspace API URL."""
    parts = urlsplit(api_url)
    match = WORKSPACE_PATH.match(parts.path)
    prefix = match.group("prefix") if match else ""
    scheme = "wss" if parts.scheme == "https" else "ws"
    return f"{scheme}://{parts.netloc}{prefix}/{path.lstrip('/')}"


def workspace_channel_url(api_url: str, suffix: str) -> str | None:
    """The workspace's WebSocket route `suffix` (e.g. `task-workers`); None if `api_url` names no workspace."""
    match = WORKSPACE_PATH.match(urlsplit(api_url).path)
    if match is None:
        return None
    return websocket_url(api_url, f"ws/v1/orgs/{match.group('org')}/workspaces/{match.group('ws')}/{suffix}")


class SignalChannel:
    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        logger: logging.Logger,
        user_agent: str,
        ssl_context: ssl.SSLContext | None,
        on_signal: Callable[[dict[str, Any]], None],
        on_open: OnOpen,
        on_disconnect: Callable[[], None],
        name: str,
    ) -> None:
        self._url = url
        self._api_key = api_key
        self._logger = logger
        self._user_agent = user_agent
        self._ssl_context = ssl_context
        self._on_signal = on_signal
        self._on_open = on_open
        self._on_disconnect = on_disconnect
        self._name = name
        self._stop = threading.Event()
        self.connected = threading.Event()
        self._connection: Any = None
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        connection = self._connection
        if connection is not None:
            connection.close()
        self._thread.join(5)

    def _loop(self) -> None:
        from websockets.exceptions import InvalidStatus, WebSocketException
        from websockets.sync.client import connect

        attempt = 0
        while not self._stop.is_set():
            try:
                with connect(
                    self._url,
                    additional_headers={"Authorization": f"Bearer {self._api_key}"},
                    ssl=self._ssl_context,
                    user_agent_header=self._user_agent,
                    open_timeout=10,
                    ping_interval=20,
                    ping_timeout=20,
                    compression=None,
                ) as connection:
                    self._connection = connection
                    self.connected.set()
                    attempt = 0
                    self._logger.info("%s open: wake-ups are pushed.", self._name)
                    self._on_open(lambda message: connection.send(json.dumps(message)))
                    for message in connection:
                        self._handle(message)
            except InvalidStatus as exc:
                status = exc.response.status_code
                self._logger.warning("%s refused (HTTP %d); claiming by long-poll.", self._name, status)
            except (OSError, TimeoutError, WebSocketException) as exc:
                if not self._stop.is_set():
                    self._logger.warning("%s unavailable (%s); claiming by long-poll.", self._name, type(exc).__name__)
            finally:
                self._connection = None
                if self.connected.is_set():
                    self.connected.clear()
                    self._on_disconnect()
            self._stop.wait(backoff_delay(attempt, base=RECONNECT_BASE_SECONDS, cap=RECONNECT_CAP_SECONDS))
            attempt += 1

    def _handle(self, message: str | bytes) -> None:
        try:
            signal = json.loads(message)
        except ValueError:
            self._logger.warning("Ignoring a %s message that is not JSON.", self._name)
            return
        if isinstance(signal, dict):
            self._on_signal(signal)
