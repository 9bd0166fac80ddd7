"""The WebSocket control channel: `wake` and `cancel` signals from the server, nothing else.

It is a hint: when it cannot be opened (a proxy that refuses upgrades, a firewall) or drops,
the agent claims with long-polls and learns cancels from heartbeats, while this thread keeps
trying to reconnect with exponential backoff and full jitter.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable

from tether._api import backoff_delay
from tether._version import __version__
from tether.agent.config import AgentConfig

logger = logging.getLogger("tether.agent")

RECONNECT_BASE_SECONDS = 1.0
RECONNECT_CAP_SECONDS = 60.0


class ControlChannel:
    def __init__(
        self,
        config: AgentConfig,
        agent_id: str,
        *,
        on_wake: Callable[[], None],
        on_cancel: Callable[[str], None],
        on_disconnect: Callable[[], None],
    ) -> None:
        self._config = config
        self._url = config.agent_channel_url(agent_id)
        self._on_wake = on_wake
        self._on_cancel = on_cancel
        self._on_disconnect = on_disconnect
        self._stop = threading.Event()
        self.connected = threading.Event()
        self._connection: object | None = None
        self._thread = threading.Thread(target=self._loop, name="control-channel", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        connection = self._connection
        if connection is not None:
            connection.close()  # type: ignore[attr-defined]
        self._thread.join(5)

    def _loop(self) -> None:
        from websockets.exceptions import InvalidStatus, WebSocketException
        from websockets.sync.client import connect

        attempt = 0
        while not self._stop.is_set():
            try:
                with connect(
                    self._url,
                    additional_headers={"Authorization": f"Bearer {self._config.api_key}"},
                    ssl=self._config.ssl_context if self._config.secure else None,
                    user_agent_header=f"tether-agent/{__version__}",
                    open_timeout=10,
                    ping_interval=20,
                    ping_timeout=20,
                    compression=None,
                ) as connection:
                    self._connection = connection
                    self.connected.set()
                    attempt = 0
                    logger.info("Control channel open: wake-ups are pushed.")
                    self._on_wake()  # anything that fell due while we were not listening
                    for message in connection:
                        self._handle(message)
            except InvalidStatus as exc:
                logger.warning("Control channel refused (HTTP %d); claiming by long-poll.", exc.response.status_code)
            except (OSError, TimeoutError, WebSocketException) as exc:
                if not self._stop.is_set():
                    logger.warning("Control channel unavailable (%s); claiming by long-poll.", type(exc).__name__)
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
            logger.warning("Ignoring a control message that is not JSON.")
            return
        kind = signal.get("type") if isinstance(signal, dict) else None
        if kind == "wake":
            self._on_wake()
        elif kind == "cancel" and isinstance(signal.get("run_id"), str):
            self._on_cancel(signal["run_id"])
