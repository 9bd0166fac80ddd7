"""The agent's control channel: `wake` and `cancel` signals from the server, nothing else.

It is a hint (see tether._signal_channel): without it the agent claims with long-polls and
learns cancels from heartbeats.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from tether._signal_channel import SignalChannel
from tether._version import __version__
from tether.agent.config import AgentConfig

logger = logging.getLogger("tether.agent")


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
        self._on_wake = on_wake
        self._on_cancel = on_cancel
        self._channel = SignalChannel(
            config.agent_channel_url(agent_id),
            config.api_key,
            logger=logger,
            user_agent=f"tether-agent/{__version__}",
            ssl_context=config.ssl_context if config.secure else None,
            on_signal=self._handle,
            # Anything that fell due while we were not listening.
            on_open=lambda send: on_wake(),
            on_disconnect=on_disconnect,
            name="Control channel",
        )

    @property
    def connected(self) -> threading.Event:
        return self._channel.connected

    def start(self) -> None:
        self._channel.start()

    def stop(self) -> None:
        self._channel.stop()

    def _handle(self, signal: dict[str, Any]) -> None:
        kind = signal.get("type")
        if kind == "wake":
            self._on_wake()
        elif kind == "cancel" and isinstance(signal.get("run_id"), str):
            self._on_cancel(signal["run_id"])
