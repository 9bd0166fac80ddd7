"""What a rule sees and how it answers: accept, replace, reject, wait or abort."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from controlplane.runs.states import DEFAULT_NAMES


class ResultStatus(StrEnum):
    ACCEPT = "ACCEPT"
    REJECT = "REJECT"
    WAIT = "WAIT"
    ABORT = "ABORT"


@dataclass(frozen=True)
class StateSpec:
    """A state as proposed by a client or held by a run."""

    type: str
    name: str = ""
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    timestamp: datetime | None = None

    def __post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", DEFAULT_NAMES[self.type])

    def same_as(self, other: StateSpec) -> bool:
        return (
            self.type == other.type
            and self.name == other.name
            and self.details.get("scheduled_time") == other.details.get("scheduled_time")
        )

    def with_(self, **changes: Any) -> StateSpec:
        return replace(self, **changes)


@dataclass
class TransitionContext:
    """One proposal on its way through the rules. Rules call the verbs; the engine reads the outcome."""

    run: Any  # FlowRun or TaskRun (locked for update)
    initial: StateSpec | None
    proposed: StateSpec
    now: datetime
    force: bool = False
    allow_rerun: bool = False
    status: ResultStatus = ResultStatus.ACCEPT
    reason: str = ""
    delay_seconds: float | None = None
    # A repeat of the state the run is already in: answered ACCEPT, written nowhere.
    noop: bool = False

    @property
    def decided(self) -> bool:
        return self.status != ResultStatus.ACCEPT or self.noop

    def reject(self, reason: str) -> None:
        self.status, self.reason = ResultStatus.REJECT, reason

    def abort(self, reason: str) -> None:
        self.status, self.reason = ResultStatus.ABORT, reason

    def wait(self, seconds: float, reason: str) -> None:
        self.status, self.reason, self.delay_seconds = ResultStatus.WAIT, reason, max(0.0, seconds)

    def replace(self, state: StateSpec, reason: str) -> None:
        """Accept, but a different state than the one proposed (retries, queues, cancellations)."""
        self.proposed, self.reason = state, reason

    def accept_as_noop(self, reason: str) -> None:
        self.noop, self.reason = True, reason


@dataclass(frozen=True)
class OrchestrationResult:
    status: ResultStatus
    state: StateSpec
    reason: str
    delay_seconds: float | None = None
    changed: bool = False
