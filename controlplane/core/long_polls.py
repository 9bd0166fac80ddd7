"""A per-process cap on claims that wait (long-polls), so they cannot hold every HTTP thread.

A long-poll claim sleeps inside its request, on one of the web process's bounded pool of
HTTP threads (`TETHER_HTTP_THREADS`, core/asgi_http.py). A fleet of agents without a
WebSocket would otherwise fill them all, and every other request (heartbeats, the UI, run
reports) would queue behind sleeping claims. So at most `TETHER_LONG_POLLS_PER_PROCESS`
claims of this process wait at once — agents' and task workers' together, one counter —
and a claim that finds the cap full claims once without waiting and tells its caller when
to come back (`refused_retry_after_seconds`). See docs/dispatch.md, "Long-polls".
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings

# A refused long-poller comes back after this long: long enough to leave the threads to the
# other requests, short enough that a run created meanwhile waits little (pushes wake agents
# with a WebSocket sooner). Jittered so refused pollers do not return in step.
REFUSED_RETRY_SECONDS = (2.0, 4.0)


class LongPollCap:
    """A counter of waiting claims with a limit read from settings at each entry (tests change it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting = 0

    @property
    def waiting(self) -> int:
        return self._waiting

    @contextmanager
    def try_enter(self) -> Iterator[bool]:
        """Yield True with a place held until the block ends, or False (nothing held) when the cap is full."""
        limit: int = settings.TETHER_LONG_POLLS_PER_PROCESS
        with self._lock:
            admitted = self._waiting < limit
            if admitted:
                self._waiting += 1
        try:
            yield admitted
        finally:
            if admitted:
                with self._lock:
                    self._waiting -= 1


LONG_POLLS = LongPollCap()


def refused_retry_after_seconds() -> float:
    """How long a claim refused a wait should tell its caller to stay away."""
    low, high = REFUSED_RETRY_SECONDS
    return round(random.uniform(low, high), 3)  # noqa: S311 - jitter, not crypto
