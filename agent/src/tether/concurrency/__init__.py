"""Global concurrency limits and rate limits of the workspace (like `prefect.concurrency`).

    from tether.concurrency import concurrency, rate_limit

    with concurrency("database", occupy=1, timeout_seconds=30):
        write_rows()

`tether.concurrency.asyncio` has the same two for async code. Limits are created in the UI
or the API (`concurrency-limits/`); a limit named `tag:<tag>` also limits the task runs
tagged `<tag>` (see docs/concurrency.md).
"""

from __future__ import annotations

from tether.concurrency._errors import (
    AcquireConcurrencySlotTimeoutError,
    ConcurrencySlotAcquisitionError,
    TaskRunAborted,
)
from tether.concurrency.sync import concurrency, rate_limit

__all__ = [
    "AcquireConcurrencySlotTimeoutError",
    "ConcurrencySlotAcquisitionError",
    "TaskRunAborted",
    "concurrency",
    "rate_limit",
]
