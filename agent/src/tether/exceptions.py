"""The SDK's exception tree. Everything the SDK raises on purpose derives from `TetherException`."""

from __future__ import annotations

from typing import Any


class TetherException(Exception):
    """Base class of every error the SDK raises on purpose."""


class UpstreamTaskError(TetherException):
    """A task did not run because a task it depends on did not complete."""


class FailedRun(TetherException):
    """A run ended FAILED (or CRASHED/CANCELLED) and its result was asked for."""


class MissingResult(TetherException):
    """A state carries no result (it was not persisted, or the run has not finished)."""


class ParameterTypeError(TetherException):
    """Parameters do not fit the flow's signature."""


class TaskRunTimeoutError(TetherException, TimeoutError):
    """A task ran past its `timeout_seconds`."""


class FlowRunTimeoutError(TetherException, TimeoutError):
    """A flow ran past its `timeout_seconds`."""


class TerminationSignal(BaseException):
    """The process was asked to stop (SIGTERM): the run is being cancelled."""

    def __init__(self, signal: int) -> None:
        super().__init__(f"Received signal {signal}.")
        self.signal = signal


class EntrypointError(TetherException):
    """A deployment's entrypoint could not be loaded."""


class APIError(TetherException):
    """The control plane answered with an error (or could not be reached)."""

    def __init__(self, message: str, *, status_code: int | None = None, body: Any = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.body = body


class DeliveryUnknown(APIError):
    """The connection broke after the request was sent: the server may or may not have applied it."""


class TransitionRefused(APIError):
    """The server refused a proposed state (REJECT or ABORT, or a stale epoch): stop the run."""

    def __init__(self, message: str, *, status: str, state: dict[str, Any] | None = None) -> None:
        super().__init__(message, status_code=409)
        self.status = status
        self.state = state or {}


class ReportNotDelivered(APIError):
    """Task-run states or log lines could not be delivered to the control plane after retries."""


class FlowPauseTimeout(TetherException, TimeoutError):
    """A paused flow run was not resumed before its pause timed out."""


class CancelledWhilePaused(TerminationSignal):
    """The flow run was cancelled while it was paused."""

    def __init__(self) -> None:
        BaseException.__init__(self, "The flow run was cancelled while it was paused.")
        self.signal = 15


class FlowSuspended(BaseException):
    """Raised by `suspend_flow_run()` to end the flow run's process; the run starts again when resumed.

    A BaseException, like a signal: a flow's `except Exception` must not swallow it.
    """
