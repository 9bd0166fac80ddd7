"""Dispatch timings, read from settings so a fleet is tuned centrally (sent at hello)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta

from django.conf import settings

# How many heartbeats an agent may miss before it is shown offline.
MISSED_HEARTBEATS_OFFLINE = 3
MAX_WAIT_SECONDS = 30


@dataclass(frozen=True)
class Timings:
    heartbeat_seconds: int
    lease_seconds: int
    long_poll_seconds: int
    prefetch_seconds: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.lease_seconds)

    @property
    def prefetch(self) -> timedelta:
        return timedelta(seconds=self.prefetch_seconds)

    @property
    def token_grace(self) -> timedelta:
        """A run token outlives its lease by one heartbeat: a report racing a renewal still lands."""
        return timedelta(seconds=self.heartbeat_seconds)

    @property
    def offline_after(self) -> timedelta:
        return timedelta(seconds=self.heartbeat_seconds * MISSED_HEARTBEATS_OFFLINE)


def dispatch_timings() -> Timings:
    return Timings(
        heartbeat_seconds=settings.TETHER_AGENT_HEARTBEAT_SECONDS,
        lease_seconds=settings.TETHER_AGENT_LEASE_SECONDS,
        long_poll_seconds=settings.TETHER_AGENT_LONG_POLL_SECONDS,
        prefetch_seconds=settings.TETHER_AGENT_PREFETCH_SECONDS,
    )
