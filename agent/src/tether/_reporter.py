"""The background reporter: task-run states and log lines, batched and delivered off the hot path.

A task only appends an entry to a buffer; one thread sends what has gathered when the buffer
reaches `batch_size` entries or after `interval` seconds, and everything that is left at
`flush()`. Deliveries are retried with backoff while the failure is transient; both kinds of
report are idempotent on the server (client-chosen task-run ids, per-run log `seq`), so a
batch whose answer was lost is simply sent again. A report that cannot be delivered is never
dropped quietly: `flush()` raises `ReportNotDelivered`.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from tether._api import Client, backoff_delay
from tether._redaction import redact, redact_any
from tether.exceptions import APIError, DeliveryUnknown, ReportNotDelivered

TASK_BATCH_MAX = 1000
LOG_BATCH_MAX = 1000
LOG_BATCH_MAX_BYTES = 900_000  # the server takes 1 MiB of messages per batch; leave room
LOG_MESSAGE_MAX_BYTES = 32 * 1024

_internal = logging.getLogger("tether._reporter")
_T = TypeVar("_T")
# How many task runs of a batch whose answer was lost are looked up to tell whether it landed.
_WITNESSES = 5


def _parse_timestamp(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        return None


def truncate_message(message: str, limit: int = LOG_MESSAGE_MAX_BYTES) -> str:
    encoded = message.encode("utf-8", errors="replace")
    if len(encoded) <= limit:
        return message
    marker = "… [truncated]"
    return encoded[: limit - len(marker.encode())].decode("utf-8", errors="ignore") + marker


class Reporter:
    """Batches task-run reports and log lines to the control plane from one background thread."""

    def __init__(
        self,
        client: Client,
        *,
        batch_size: int = 200,
        interval: float = 0.25,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self._batch_size = batch_size
        self._interval = interval
        self._sleep = sleep
        self._cond = threading.Condition()
        self._tasks: list[dict[str, Any]] = []
        self._logs: list[dict[str, Any]] = []
        self._enqueued = 0
        self._delivered = 0
        self._first_pending_at: float | None = None
        self._flush_requested = False
        self._closed = False
        self._error: APIError | None = None
        self._thread: threading.Thread | None = None

    # --- producers (any thread) ---

    def report_task_run(self, entry: dict[str, Any]) -> None:
        self._put(self._tasks, redact_any(entry))

    def report_log(self, line: dict[str, Any]) -> None:
        # Values revealed to this run (blocks it loaded) never leave it in a log line.
        line["message"] = truncate_message(redact(line["message"]))
        self._put(self._logs, line)

    def _put(self, buffer: list[dict[str, Any]], entry: dict[str, Any]) -> None:
        with self._cond:
            if self._thread is None:
                self._start()
            buffer.append(entry)
            self._enqueued += 1
            if self._first_pending_at is None:
                # The sender may be idle in an untimed wait: wake it to start this entry's interval,
                # or the entry would wait for a full batch or the run's final flush.
                self._first_pending_at = time.monotonic()
                self._cond.notify_all()
            elif len(self._tasks) + len(self._logs) >= self._batch_size:
                self._cond.notify_all()

    def _start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="tether-reporter", daemon=True)
        self._thread.start()

    # --- flushing ---

    def flush(self, timeout: float = 30.0) -> None:
        """Deliver everything reported so far, retrying for up to `timeout` seconds.

        Raises `ReportNotDelivered` if something could not be delivered: the caller must fail
        the run loudly rather than finish it with a gap in its history.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            target = self._enqueued
            self._flush_requested = True
            self._flush_deadline = deadline
            self._cond.notify_all()
            while self._delivered < target and self._error is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._thread is None:
                    break
                self._cond.wait(min(remaining, 0.5))
            if self._error is not None:
                raise ReportNotDelivered(f"Run reports could not be delivered: {self._error}") from self._error
            if self._delivered < target:
                pending = target - self._delivered
                raise ReportNotDelivered(
                    f"{pending} task-run state(s) or log line(s) could not be delivered "
                    f"to the control plane within {timeout:g}s."
                )

    def close(self, timeout: float = 30.0) -> None:
        try:
            self.flush(timeout)
        finally:
            with self._cond:
                self._closed = True
                self._cond.notify_all()

    # --- the thread ---

    def _take(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        tasks = self._tasks[:TASK_BATCH_MAX]
        del self._tasks[: len(tasks)]
        logs: list[dict[str, Any]] = []
        size = 0
        for line in self._logs:
            size += len(line["message"].encode("utf-8", errors="replace"))
            if len(logs) >= LOG_BATCH_MAX or (logs and size > LOG_BATCH_MAX_BYTES):
                break
            logs.append(line)
        del self._logs[: len(logs)]
        if not self._tasks and not self._logs:
            self._first_pending_at = None
        return tasks, logs

    def _due(self) -> bool:
        if not self._tasks and not self._logs:
            return False
        if self._flush_requested or self._closed:
            return True
        if len(self._tasks) + len(self._logs) >= self._batch_size:
            return True
        first = self._first_pending_at
        return first is not None and time.monotonic() - first >= self._interval

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._due():
                    if self._closed:
                        return
                    if not self._tasks and not self._logs:
                        self._flush_requested = False
                        self._cond.wait()
                    else:
                        first = self._first_pending_at or time.monotonic()
                        self._cond.wait(max(0.001, self._interval - (time.monotonic() - first)))
                tasks, logs = self._take()
            try:
                if tasks:
                    self._deliver_task_runs(tasks)
                if logs:
                    self._deliver("logs/", logs)
            except Exception as exc:  # noqa: BLE001 - recorded, and raised by flush() in the run's thread
                if not isinstance(exc, APIError):
                    exc = APIError(f"{type(exc).__name__}: {exc}")
                _internal.error("Tether: run reports could not be delivered: %s", exc)
                with self._cond:
                    self._error = self._error or exc
                    # Delivered or not, these entries are settled: flush() reports the error.
                    self._delivered += len(tasks) + len(logs)
                    self._cond.notify_all()
                continue
            with self._cond:
                self._delivered += len(tasks) + len(logs)
                self._cond.notify_all()

    def _deliver_task_runs(self, entries: list[dict[str, Any]]) -> None:
        """Send a batch of task-run states exactly once, even when an answer is lost on the way back.

        Re-sending a batch the server already applied could record a state twice (a RUNNING
        re-proposed after the run moved on to AwaitingRetry is accepted again), so after a lost
        answer the reporter first asks the server whether the batch landed. The server applies a
        batch in one transaction: all of it or none.
        """
        while True:
            try:
                self._deliver("task-runs/batch/", {"task_runs": entries}, resend_safe=False)
                return
            except DeliveryUnknown as exc:
                _internal.warning("Tether: the answer to a batch of task-run states was lost, checking it: %s", exc)
                if self._persist(lambda retry_for: self._batch_applied(entries, retry_for)):
                    return

    def _batch_applied(self, entries: list[dict[str, Any]], retry_for: float) -> bool:
        """Whether the server holds this batch: one of its last task runs is in a state the batch proposed."""
        proposed: dict[str, set[dt.datetime]] = {}
        for entry in entries:
            stamp = _parse_timestamp(entry.get("state", {}).get("timestamp"))
            if stamp is not None:
                proposed.setdefault(str(entry["id"]), set()).add(stamp)
        # A state the batch proposed may have been refused (nothing booked): look at a few runs.
        for task_run_id in list(proposed)[-_WITNESSES:]:
            try:
                current = self._client.request("GET", f"task-runs/{task_run_id}/", retry_for=retry_for).json()
            except APIError as exc:
                if exc.status_code == 404:
                    continue
                raise
            if _parse_timestamp(current.get("state_timestamp")) in proposed[task_run_id]:
                return True
        return False

    def _deliver(self, path: str, body: Any, *, resend_safe: bool = True) -> None:
        """Send one batch; retry transient failures until it is delivered or a flush gives up."""

        def send(retry_for: float) -> None:
            self._client.request("POST", path, json=body, retry_for=retry_for, resend_safe=resend_safe)

        self._persist(send)

    def _persist(self, attempt_once: Callable[[float], _T]) -> _T:
        """Call `attempt_once(retry_for)` until it succeeds: mid-run for as long as it takes, while a
        flush waits until its deadline. A 4xx (but 429) or a lost answer is raised at once."""
        attempt = 0
        while True:
            with self._cond:
                if self._closed:
                    raise APIError("The reporter was closed before this batch could be delivered.")
                deadline = self._flush_deadline if self._flush_requested else None
            # Mid-run, keep trying (the server may be restarting); once a flush waits, its deadline rules.
            retry_for = 5.0 if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                return attempt_once(retry_for)
            except DeliveryUnknown:
                raise
            except APIError as exc:
                if exc.status_code is not None and exc.status_code < 500 and exc.status_code != 429:
                    raise  # a 4xx will not get better by sending it again
                with self._cond:
                    if self._flush_requested and time.monotonic() >= self._flush_deadline:
                        raise
                _internal.warning("Tether: the control plane is unreachable, retrying: %s", exc)
                self._sleep(backoff_delay(attempt, base=0.5, cap=5.0))
                attempt += 1

    _flush_deadline: float = 0.0
