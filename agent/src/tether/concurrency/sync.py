"""`concurrency()` and `rate_limit()` for synchronous code (like `prefect.concurrency.sync`)."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from tether._api import Client
from tether.concurrency._errors import ConcurrencySlotAcquisitionError
from tether.concurrency._leases import DEFAULT_LEASE_SECONDS, Attempt, Lease, Mode, acquire, release
from tether.context import flow_run_context, task_run_context

_logger = logging.getLogger("tether.concurrency")


def _names(names: str | list[str]) -> list[str]:
    listed = [names] if isinstance(names, str) else list(names)
    if not listed:
        raise ValueError("Name at least one concurrency limit.")
    return listed


def default_holder() -> str:
    """Who holds a lease, as the UI shows it: the task run, the flow run, or this process."""
    task_ctx = task_run_context.get()
    if task_ctx is not None:
        return f"task-run:{task_ctx.task_run.id}"
    flow_ctx = flow_run_context.get()
    if flow_ctx is not None:
        return f"flow-run:{flow_ctx.flow_run.id}"
    return f"{socket.gethostname()}:{os.getpid()}"


_shared: dict[tuple[str, str], Client] = {}
_shared_lock = threading.Lock()


def _client_from_env() -> Client | None:
    """One client per API URL and key for the process: a connection is reused across blocks."""
    url = os.environ.get("TETHER_API_URL")
    if not url:
        return None
    key = os.environ.get("TETHER_API_KEY") or ""
    with _shared_lock:
        client = _shared.get((url, key))
        if client is None:
            client = _shared[(url, key)] = Client(url, key or None)
        return client


def _client(strict: bool) -> Client | None:
    """Inside a tracked flow, its client (with the run token); outside, one from the environment."""
    flow_ctx = flow_run_context.get()
    if flow_ctx is not None and flow_ctx.client is not None:
        return flow_ctx.client
    client = _client_from_env()
    if client is None:
        message = "No control plane to hold concurrency slots on: TETHER_API_URL is not set."
        if strict:
            raise ConcurrencySlotAcquisitionError(message)
        _logger.warning("%s Not limiting.", message)
    return client


def acquire_with(
    client: Client,
    names: list[str],
    *,
    occupy: int,
    timeout_seconds: float | None,
    max_retries: int | None,
    lease_duration: float,
    strict: bool,
    holder: str | None,
    mode: Mode = "concurrency",
    attempt: Attempt | None = None,
) -> Lease | None:
    return acquire(
        client,
        names,
        slots=occupy,
        timeout_seconds=timeout_seconds,
        max_retries=max_retries,
        lease_seconds=lease_duration,
        holder=holder or default_holder(),
        strict=strict,
        mode=mode,
        attempt=attempt,
    )


@contextmanager
def concurrency(
    names: str | list[str],
    occupy: int = 1,
    timeout_seconds: float | None = None,
    max_retries: int | None = None,
    lease_duration: float = DEFAULT_LEASE_SECONDS,
    strict: bool = False,
    holder: str | None = None,
) -> Iterator[None]:
    """Hold `occupy` slots of each named limit for the duration of the block.

    Waits (with backoff) while a limit is full; raises `AcquireConcurrencySlotTimeoutError`
    after `timeout_seconds` or `max_retries` refusals. The slots are released when the block
    ends, also on an exception; while held, the lease is renewed every third of
    `lease_duration`, so if the process dies the slots free themselves when it runs out.
    A limit that does not exist does not limit (with `strict=True` it raises
    `ConcurrencySlotAcquisitionError`).

        with concurrency("database", occupy=1, timeout_seconds=30):
            write_rows()
    """
    listed = _names(names)
    client = _client(strict)
    if client is None:
        yield
        return
    lease = acquire_with(
        client,
        listed,
        occupy=occupy,
        timeout_seconds=timeout_seconds,
        max_retries=max_retries,
        lease_duration=lease_duration,
        strict=strict,
        holder=holder,
    )
    try:
        yield
    finally:
        if lease is not None:
            release(lease)


def rate_limit(
    names: str | list[str], occupy: int = 1, timeout_seconds: float | None = None, strict: bool = False
) -> None:
    """Take `occupy` slots of each named rate limit (limits with `slot_decay_per_second`),
    waiting until they have decayed enough; the slots free themselves, nothing to release.

        for page in pages:
            rate_limit("github-api")
            fetch(page)
    """
    listed = _names(names)
    client = _client(strict)
    if client is not None:
        acquire_with(
            client,
            listed,
            occupy=occupy,
            timeout_seconds=timeout_seconds,
            max_retries=None,
            lease_duration=DEFAULT_LEASE_SECONDS,
            strict=strict,
            holder=None,
            mode="rate_limit",
        )


__all__ = ["concurrency", "rate_limit"]
