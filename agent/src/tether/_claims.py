"""What agents and task workers read from a claim's answer the same way."""

from __future__ import annotations

from typing import Any

# The longest a server's `retry_after_seconds` is honoured: a wrong value must not park a worker.
RETRY_AFTER_MAX_SECONDS = 30.0


def retry_after_seconds(answer: dict[str, Any]) -> float:
    """How long a claim's answer asks us to wait before the next claim (0: no wait asked).

    The server holds only so many long-polls at once; one it refused answers at once, and,
    when it claimed nothing, says when to come back. Claiming again at once would be a hot loop.
    """
    value = answer.get("retry_after_seconds")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0.0
    return min(max(0.0, float(value)), RETRY_AFTER_MAX_SECONDS)
