"""WebSocket origin policy."""

from __future__ import annotations

from typing import Any
from urllib.parse import ParseResult

from channels.security.websocket import OriginValidator
from django.conf import settings


class BrowserOriginValidator(OriginValidator):  # type: ignore[misc]
    """Refuse cross-origin handshakes from browsers; let non-browser clients through.

    Browsers always send `Origin` on a WebSocket handshake, so a foreign page can be told
    apart and refused. Agents and the SDK send none; they prove who they are with a key
    when they connect, which each consumer checks.
    """

    def __init__(self, application: Any) -> None:
        super().__init__(application, allowed_origins=[])

    def valid_origin(self, parsed_origin: ParseResult | None) -> bool:
        if parsed_origin is None:
            return True
        return any(self.match_allowed_origin(parsed_origin, host) for host in settings.ALLOWED_HOSTS)
