"""What `concurrency()`, `rate_limit()` and tag limits raise."""

from __future__ import annotations

from tether.exceptions import TetherException


class ConcurrencySlotAcquisitionError(TetherException):
    """Slots cannot be acquired: an unknown limit (with `strict=True`), a request for more slots
    than the limit has, a rate limit on a limit without slot decay, or no control plane."""


class AcquireConcurrencySlotTimeoutError(ConcurrencySlotAcquisitionError, TimeoutError):
    """No slot freed up within `timeout_seconds` (or `max_retries` attempts)."""


class TaskRunAborted(TetherException):
    """A task run did not run because one of its tags has a concurrency limit of 0."""
