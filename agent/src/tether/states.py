"""Run states, mirroring `prefect.states`: a type, a name, a message and (locally) the result."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from tether.exceptions import FailedRun, MissingResult


class StateType(StrEnum):
    SCHEDULED = "SCHEDULED"
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    CANCELLING = "CANCELLING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    CRASHED = "CRASHED"


TERMINAL_STATES = frozenset({StateType.COMPLETED, StateType.FAILED, StateType.CANCELLED, StateType.CRASHED})
_UNSET: Any = object()


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


@dataclass
class State:
    """A run's state. `data` holds the result (or the exception) in this process only: it never
    goes to the server, which sees `details` (e.g. the result's storage key)."""

    type: StateType
    name: str = ""
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    timestamp: _dt.datetime = field(default_factory=_now)
    data: Any = _UNSET

    def __post_init__(self) -> None:
        if not self.name:
            self.name = self.type.value.title()

    def __repr__(self) -> str:
        message = f"message={self.message!r}, " if self.message else ""
        return f"{self.name}({message}type={self.type.value})"

    def is_scheduled(self) -> bool:
        return self.type == StateType.SCHEDULED

    def is_pending(self) -> bool:
        return self.type == StateType.PENDING

    def is_running(self) -> bool:
        return self.type == StateType.RUNNING

    def is_paused(self) -> bool:
        return self.type == StateType.PAUSED

    def is_completed(self) -> bool:
        return self.type == StateType.COMPLETED

    def is_failed(self) -> bool:
        return self.type == StateType.FAILED

    def is_crashed(self) -> bool:
        return self.type == StateType.CRASHED

    def is_cancelled(self) -> bool:
        return self.type == StateType.CANCELLED

    def is_cancelling(self) -> bool:
        return self.type == StateType.CANCELLING

    def is_final(self) -> bool:
        return self.type in TERMINAL_STATES

    def result(self, raise_on_failure: bool = True) -> Any:
        """The run's return value; for a failed run, raise its exception (or return it)."""
        if self.type in (StateType.FAILED, StateType.CRASHED, StateType.CANCELLED) or (
            self.type == StateType.PENDING and self.name == "NotReady"
        ):
            error = self.data if isinstance(self.data, BaseException) else FailedRun(self.message or repr(self))
            if raise_on_failure:
                raise error
            return error
        if self.data is _UNSET:
            raise MissingResult(f"{self!r} has no result.")
        return self.data

    def to_api(self) -> dict[str, Any]:
        return {
            "type": self.type.value,
            "name": self.name,
            "message": self.message[:10_000],
            "details": self.details,
            "timestamp": self.timestamp.isoformat(),
        }

    @classmethod
    def from_api(cls, body: dict[str, Any]) -> State:
        return cls(
            type=StateType(body["type"]),
            name=body.get("name") or "",
            message=body.get("message") or "",
            details=body.get("details") or {},
        )


def Scheduled(**kwargs: Any) -> State:
    return State(StateType.SCHEDULED, **kwargs)


def AwaitingRetry(**kwargs: Any) -> State:
    return State(StateType.SCHEDULED, name="AwaitingRetry", **kwargs)


def Pending(**kwargs: Any) -> State:
    return State(StateType.PENDING, **kwargs)


def Running(**kwargs: Any) -> State:
    return State(StateType.RUNNING, **kwargs)


def Retrying(**kwargs: Any) -> State:
    return State(StateType.RUNNING, name="Retrying", **kwargs)


def Completed(**kwargs: Any) -> State:
    return State(StateType.COMPLETED, **kwargs)


def Cached(**kwargs: Any) -> State:
    return State(StateType.COMPLETED, name="Cached", **kwargs)


def Failed(**kwargs: Any) -> State:
    return State(StateType.FAILED, **kwargs)


def TimedOut(**kwargs: Any) -> State:
    return State(StateType.FAILED, name="TimedOut", **kwargs)


def Crashed(**kwargs: Any) -> State:
    return State(StateType.CRASHED, **kwargs)


def Cancelled(**kwargs: Any) -> State:
    return State(StateType.CANCELLED, **kwargs)


def Cancelling(**kwargs: Any) -> State:
    return State(StateType.CANCELLING, **kwargs)


def Paused(**kwargs: Any) -> State:
    return State(StateType.PAUSED, **kwargs)


__all__ = [
    "TERMINAL_STATES",
    "AwaitingRetry",
    "Cached",
    "Cancelled",
    "Cancelling",
    "Completed",
    "Crashed",
    "Failed",
    "Paused",
    "Pending",
    "Retrying",
    "Running",
    "Scheduled",
    "State",
    "StateType",
    "TimedOut",
]
