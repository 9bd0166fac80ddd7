"""State types and the named states built on them."""

from __future__ import annotations

from django.db import models


class StateType(models.TextChoices):
    SCHEDULED = "SCHEDULED"
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    CANCELLING = "CANCELLING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    CRASHED = "CRASHED"


TERMINAL_TYPES = frozenset({StateType.COMPLETED, StateType.FAILED, StateType.CANCELLED, StateType.CRASHED})
# A run in one of these holds its concurrency slot.
ACTIVE_TYPES = frozenset({StateType.PENDING, StateType.RUNNING, StateType.CANCELLING})

# The default name of each type, and the named states of the product.
DEFAULT_NAMES: dict[str, str] = {
    StateType.SCHEDULED: "Scheduled",
    StateType.PENDING: "Pending",
    StateType.RUNNING: "Running",
    StateType.PAUSED: "Paused",
    StateType.CANCELLING: "Cancelling",
    StateType.COMPLETED: "Completed",
    StateType.FAILED: "Failed",
    StateType.CANCELLED: "Cancelled",
    StateType.CRASHED: "Crashed",
}
LATE = "Late"
AWAITING_RETRY = "AwaitingRetry"
AWAITING_CONCURRENCY_SLOT = "AwaitingConcurrencySlot"
RETRYING = "Retrying"
CACHED = "Cached"
SUSPENDED = "Suspended"
TIMED_OUT = "TimedOut"

# Which type each named state belongs to: a proposal naming one of these with another type is refused.
NAMED_STATE_TYPES: dict[str, str] = {
    LATE: StateType.SCHEDULED,
    AWAITING_RETRY: StateType.SCHEDULED,
    AWAITING_CONCURRENCY_SLOT: StateType.SCHEDULED,
    RETRYING: StateType.RUNNING,
    CACHED: StateType.COMPLETED,
    SUSPENDED: StateType.PAUSED,
    TIMED_OUT: StateType.FAILED,
}


def is_terminal(state_type: str) -> bool:
    return state_type in TERMINAL_TYPES
