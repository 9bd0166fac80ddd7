"""Leases on the control plane's concurrency limits: acquire (waiting while full), renew, release.

A held lease is renewed by one background thread per process, every third of its duration, so
a holder that is killed frees its slots when the lease runs out, and a live one never loses them.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from tether._api import Client
from tether.concurrency._errors import AcquireConcurrencySlotTimeoutError, ConcurrencySlotAcquisitionError
from tether.exceptions import APIError

_logger = logging.getLogger("tether.concurrency")

DEFAULT_LEASE_SECONDS = 60.0
# Waiting for a slot: ask again after the server's hint, growing to at most this between attempts.
MAX_WAIT_BETWEEN_ATTEMPTS = 1.0
Mode = Literal["concurrency", "rate_limit"]


@dataclass
class Lease:
    id: str
    names: tuple[str, ...]
    client: Client = field(repr=False)
    ttl_seconds: float


@dataclass
class Attempt:
    """One acquisition in flight; `stop()` from another thread abandons it (and frees what it got)."""

    stopped: threading.Event = field(default_factory=threading.Event)
    lease: Lease | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def stop(self) -> None:
        with self._lock:
            self.stopped.set()
            lease, self.lease = self.lease, None
        if lease is not None:
            release(lease)

    def keep(self, lease: Lease) -> bool:
        with self._lock:
            if self.stopped.is_set():
                return False
            self.lease = lease
            return True


def _wait_seconds(server_hint: float, attempt: int) -> float:
    grown = min(MAX_WAIT_BETWEEN_ATTEMPTS, 0.05 * 2**attempt)
    return float(max(server_hint, grown) * random.uniform(1.0, 1.5))  # noqa: S311 - jitter, not crypto


def _missing_names(error: APIError) -> list[str]:
    body = error.body if isinstance(error.body, dict) else {}
    details = body.get("error", {}).get("details") or {}
    names = details.get("names") if isinstance(details, dict) else None
    return [str(name) for name in names] if isinstance(names, list) else []


def acquire(
    client: Client,
    names: Sequence[str],
    *,
    slots: int = 1,
    timeout_seconds: float | None = None,
    max_retries: int | None = None,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    holder: str = "",
    strict: bool = False,
    mode: Mode = "concurrency",
    attempt: Attempt | None = None,
) -> Lease | None:
    """Take `slots` of every named limit, waiting while one is full.

    Returns the lease (renewed in the background until `release`), or None when nothing is
    held: a rate limit (its slots decay by themselves), or — unless `strict` — limits that do
    not exist. Raises `AcquireConcurrencySlotTimeoutError` when no slot frees up in time.
    """
    wanted = list(dict.fromkeys(names))
    attempt = attempt or Attempt()
    deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
    tries = 0
    body = {"slots": slots, "ttl_seconds": lease_seconds, "holder": holder[:255], "mode": mode}
    while wanted:
        try:
            answer: dict[str, Any] = client.post("concurrency-leases/", {"names": wanted, **body})
        except APIError as exc:
            missing = _missing_names(exc) if exc.status_code == 404 else []
            if not missing:
                raise ConcurrencySlotAcquisitionError(f"Cannot acquire {wanted}: {exc}") from exc
            if strict:
                raise ConcurrencySlotAcquisitionError(f"Concurrency limits {missing} do not exist.") from exc
            _logger.warning("Concurrency limits %s do not exist; not limiting by them.", missing)
            wanted = [name for name in wanted if name not in missing]
            continue
        if answer.get("acquired"):
            if "id" not in answer:
                return None
            lease = Lease(id=str(answer["id"]), names=tuple(wanted), client=client, ttl_seconds=lease_seconds)
            if not attempt.keep(lease):
                release(lease)
                return None
            RENEWER.hold(lease)
            return lease
        tries += 1
        blocking = answer.get("blocking") or wanted
        if max_retries is not None and tries > max_retries:
            raise AcquireConcurrencySlotTimeoutError(
                f"No free slot of {blocking!r} after {max_retries} retries (wanted {slots} of {wanted})."
            )
        wait = _wait_seconds(float(answer.get("retry_after_seconds") or 0.0), tries)
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AcquireConcurrencySlotTimeoutError(
                    f"No free slot of {blocking!r} within {timeout_seconds:g}s (wanted {slots} of {wanted})."
                )
            wait = min(wait, remaining)
        if attempt.stopped.wait(wait):
            return None
    return None


def release(lease: Lease) -> None:
    """Give the slots back. A failure is logged, not raised: the lease expires on its own."""
    RENEWER.drop(lease)
    try:
        lease.client.request("DELETE", f"concurrency-leases/{lease.id}/", retry_for=10.0)
    except APIError as exc:
        if exc.status_code != 404:  # 404: it expired and was cleaned up already
            _logger.warning("Lease %s on %s was not released (it expires by itself): %s", lease.id, lease.names, exc)


class _Renewer:
    """One daemon thread renewing every held lease of the process before it runs out."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._due: dict[str, tuple[float, Lease]] = {}
        self._thread: threading.Thread | None = None

    def hold(self, lease: Lease) -> None:
        with self._cond:
            self._due[lease.id] = (time.monotonic() + lease.ttl_seconds / 3, lease)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="tether-lease-renewer", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def drop(self, lease: Lease) -> None:
        with self._cond:
            self._due.pop(lease.id, None)

    def held(self) -> int:
        with self._cond:
            return len(self._due)

    def _loop(self) -> None:
        while True:
            with self._cond:
                now = time.monotonic()
                due = [lease for at, lease in self._due.values() if at <= now]
                if not due:
                    soonest = min((at for at, _ in self._due.values()), default=None)
                    self._cond.wait(None if soonest is None else max(0.01, soonest - now))
                    continue
            for lease in due:
                self._renew(lease)

    def _renew(self, lease: Lease) -> None:
        try:
            body = {"ttl_seconds": lease.ttl_seconds}
            lease.client.post(f"concurrency-leases/{lease.id}/renew/", body, retry_for=lease.ttl_seconds / 3)
        except APIError as exc:
            with self._cond:
                if lease.id not in self._due:
                    return  # released meanwhile
                if exc.status_code in (404, 409):
                    del self._due[lease.id]
                    _logger.error("Lost the lease on %s (it expired); others may take its slots: %s", lease.names, exc)
                    return
                self._due[lease.id] = (time.monotonic() + min(1.0, lease.ttl_seconds / 10), lease)
            _logger.warning("Could not renew the lease on %s yet, retrying: %s", lease.names, exc)
            return
        with self._cond:
            if lease.id in self._due:
                self._due[lease.id] = (time.monotonic() + lease.ttl_seconds / 3, lease)


RENEWER = _Renewer()
