"""`concurrency()` and `rate_limit()` for async code (like `prefect.concurrency.asyncio`).

The waiting happens in a worker thread, so the event loop keeps running; cancelling the
awaiting task abandons the acquisition and frees any slot it obtained meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from tether.concurrency._errors import AcquireConcurrencySlotTimeoutError, ConcurrencySlotAcquisitionError
from tether.concurrency._leases import DEFAULT_LEASE_SECONDS, Attempt, Lease, release
from tether.concurrency.sync import _client, _names, acquire_with


async def _acquire(call: Callable[[Attempt], Lease | None]) -> Lease | None:
    attempt = Attempt()
    try:
        return await asyncio.to_thread(call, attempt)
    except asyncio.CancelledError:
        # The thread may still obtain a lease: stop() makes it give the lease back.
        await asyncio.shield(asyncio.to_thread(attempt.stop))
        raise


@asynccontextmanager
async def concurrency(
    names: str | list[str],
    occupy: int = 1,
    timeout_seconds: float | None = None,
    max_retries: int | None = None,
    lease_duration: float = DEFAULT_LEASE_SECONDS,
    strict: bool = False,
    holder: str | None = None,
) -> AsyncIterator[None]:
    """The async form of `tether.concurrency.concurrency`:

    async with concurrency("database", occupy=1, timeout_seconds=30):
        await write_rows()
    """
    listed = _names(names)
    client = _client(strict)
    if client is None:
        yield
        return
    lease = await _acquire(
        lambda attempt: acquire_with(
            client,
            listed,
            occupy=occupy,
            timeout_seconds=timeout_seconds,
            max_retries=max_retries,
            lease_duration=lease_duration,
            strict=strict,
            holder=holder,
            attempt=attempt,
        )
    )
    try:
        yield
    finally:
        if lease is not None:
            # Shielded: even if this task is cancelled now, the release completes.
            await asyncio.shield(asyncio.to_thread(release, lease))


async def rate_limit(
    names: str | list[str], occupy: int = 1, timeout_seconds: float | None = None, strict: bool = False
) -> None:
    """The async form of `tether.concurrency.rate_limit`."""
    listed = _names(names)
    client = _client(strict)
    if client is None:
        return
    await _acquire(
        lambda attempt: acquire_with(
            client,
            listed,
            occupy=occupy,
            timeout_seconds=timeout_seconds,
            max_retries=None,
            lease_duration=DEFAULT_LEASE_SECONDS,
            strict=strict,
            holder=None,
            mode="rate_limit",
            attempt=attempt,
        )
    )


__all__ = ["AcquireConcurrencySlotTimeoutError", "ConcurrencySlotAcquisitionError", "concurrency", "rate_limit"]
