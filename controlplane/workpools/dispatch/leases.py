"""What a lease covers, shared by claims, heartbeats, run tokens and the reaper."""

from __future__ import annotations

from controlplane.runs.states import StateType

# States in which a run has (or is about to have) a process its agent watches: the lease
# is renewed by heartbeats, and the run's token works.
LEASED_TYPES = frozenset({StateType.PENDING, StateType.RUNNING, StateType.CANCELLING, StateType.PAUSED})
