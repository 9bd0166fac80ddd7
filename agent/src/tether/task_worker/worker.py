"""The task worker's loop: claim, run each claimed task in a thread, heartbeat leases.

Threads: the main thread claims; one thread heartbeats every lease held (a busy task never
starves it); up to `limit` threads run tasks; one keeps the wake channel open
(`ws/v1/.../task-workers`, tether._signal_channel). While that channel is open, claims do not
wait on the server: the worker sleeps until a pushed wake, a freed slot, the moment the server
said the next queued run falls due, or a safety interval. Without it, claims are long-polls.
SIGTERM/SIGINT stops claiming and waits for the running tasks; a second signal exits at once
(their leases then expire and the control plane retries them on another worker).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import ssl
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from types import FrameType
from typing import Any

from tether._api import Client, backoff_delay
from tether._claims import retry_after_seconds
from tether._signal_channel import SignalChannel, workspace_channel_url
from tether._version import __version__
from tether.exceptions import APIError
from tether.logging import setup_logging
from tether.task_runners import ThreadPoolTaskRunner
from tether.task_worker.execution import Claimed, execute
from tether.tasks import Task

logger = logging.getLogger("tether.task_worker")

LONG_POLL_SECONDS = 20.0
HTTP_TIMEOUT_SECONDS = 60.0  # longer than the longest long-poll
FATAL_STATUSES = frozenset({400, 401, 403, 404, 422})
HEARTBEAT_NAP_SECONDS = 0.2
# With pushed wake-ups, how long a worker sleeps at most before claiming again anyway.
PUSHED_SAFETY_SECONDS = 10.0


class TaskWorker:
    def __init__(
        self,
        tasks: dict[str, Task[..., Any]],
        *,
        api_url: str,
        api_key: str | None,
        limit: int = 4,
        name: str | None = None,
        long_poll_seconds: float = LONG_POLL_SECONDS,
    ) -> None:
        if limit < 1:
            raise ValueError("--limit must be at least 1.")
        self.tasks = tasks
        self.limit = limit
        self.worker_id = uuid.uuid4()
        self.name = (name or f"{socket.gethostname()}-{os.getpid()}")[:100]
        self.long_poll_seconds = long_poll_seconds
        self.client = Client(api_url, api_key, timeout=HTTP_TIMEOUT_SECONDS)
        self._wake = threading.Event()
        self._channel = self._wake_channel(api_url, api_key)
        self.heartbeat_seconds = 15.0
        self._held: dict[str, Claimed] = {}
        self._held_lock = threading.Lock()
        self._slot_freed = threading.Event()
        self._stopping = threading.Event()
        self._executor = ThreadPoolExecutor(max_workers=limit, thread_name_prefix="tether-task")
        self._runner = ThreadPoolTaskRunner()
        self.completed = 0

    # --- public ---

    def run(self) -> int:
        """Serve until SIGTERM/SIGINT, then wait for the running tasks. 0 on a clean stop, 1 on a fatal error."""
        setup_logging()
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        logger.info(
            "Task worker %r (%s) serving %s, limit %d.",
            self.name,
            self.worker_id,
            ", ".join(task.name for task in self.tasks.values()),
            self.limit,
        )
        heartbeat = threading.Thread(target=self._heartbeat_loop, name="tether-task-heartbeat", daemon=True)
        heartbeat.start()
        if self._channel is not None:
            self._channel.start()
        status = 0
        try:
            self._claim_loop()
        except APIError as exc:
            logger.error("The control plane refused the task worker: %s", exc)
            status = 1
        finally:
            self._stopping.set()
            if self._channel is not None:
                self._channel.stop()
            self._executor.shutdown(wait=True)
            self.client.close()
        logger.info("Task worker stopped after %d task run(s).", self.completed)
        return status

    # --- signals ---

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self._stopping.is_set():
            logger.warning("Second stop signal: exiting now; running tasks will be retried elsewhere.")
            os._exit(1)
        logger.info("Stop signal: no new claims; waiting for %d running task run(s).", len(self._held))
        self._stopping.set()
        self._slot_freed.set()
        self._wake.set()

    # --- wake-ups ---

    def _wake_channel(self, api_url: str, api_key: str | None) -> SignalChannel | None:
        url = workspace_channel_url(api_url, "task-workers")
        if url is None or not api_key:
            return None
        ca_bundle = os.environ.get("TETHER_CA_BUNDLE")
        context = ssl.create_default_context(cafile=ca_bundle) if url.startswith("wss:") else None
        return SignalChannel(
            url,
            api_key,
            logger=logger,
            user_agent=f"tether-task-worker/{__version__}",
            ssl_context=context,
            on_signal=self._on_signal_message,
            on_open=lambda send: send({"type": "subscribe", "task_keys": sorted(self.tasks)}),
            on_disconnect=self._wake.set,
            name="Wake channel",
        )

    def _on_signal_message(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind in ("wake", "subscribed"):  # subscribed: claim what was queued before it
            self._wake.set()
        elif kind == "error":
            logger.warning("The wake channel refused a message: %s", message.get("message"))

    def _pushed(self) -> bool:
        return self._channel is not None and self._channel.connected.is_set()

    def _sleep_until_woken(self, timeout: float) -> None:
        # Short slices: a stop signal is handled only when the main thread runs bytecode.
        deadline = time.monotonic() + timeout
        while not self._wake.is_set() and not self._stopping.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._wake.wait(min(0.2, left))

    # --- claiming ---

    def _claim_loop(self) -> None:
        attempt = 0
        while not self._stopping.is_set():
            free = self.limit - len(self._held)
            if free <= 0:
                self._slot_freed.wait(1.0)
                self._slot_freed.clear()
                continue
            pushed = self._pushed()
            self._wake.clear()
            body = {
                "worker_id": str(self.worker_id),
                "worker_name": self.name,
                "task_keys": sorted(self.tasks),
                "capacity": free,
                "wait_seconds": 0 if pushed else self.long_poll_seconds,
            }
            try:
                answer = self.client.post("task-workers/claim/", body, retry_for=0)
            except APIError as exc:
                if exc.status_code in FATAL_STATUSES:
                    raise
                delay = backoff_delay(attempt, base=0.5, cap=15.0)
                logger.warning("Cannot reach the control plane (%s); retrying in %.1fs.", exc, delay)
                self._stopping.wait(delay)
                attempt += 1
                continue
            attempt = 0
            self.heartbeat_seconds = float((answer.get("timings") or {}).get("heartbeat_seconds", 15))
            claimed = answer.get("task_runs", [])
            for body_run in claimed:
                self._start(Claimed.from_api(body_run))
            refused_for = retry_after_seconds(answer)
            if pushed and not claimed:
                next_due = answer.get("next_due_seconds")
                due_in = float(next_due) if isinstance(next_due, (int, float)) else PUSHED_SAFETY_SECONDS
                self._sleep_until_woken(min(PUSHED_SAFETY_SECONDS, due_in))
            elif not claimed and refused_for > 0:
                # The server held no place for this long-poll: come back when it said (or on a wake-up).
                logger.debug("Long-poll refused by a busy server; claiming again in %.1fs.", refused_for)
                self._sleep_until_woken(refused_for)

    def _start(self, run: Claimed) -> None:
        task = self.tasks.get(run.task_key)
        if task is None:  # the server only hands out the keys asked for; never run a stranger
            logger.error("Task run %s has key %r, which this worker does not serve.", run.id, run.task_key)
            return
        with self._held_lock:
            self._held[run.id] = run
        future = self._executor.submit(execute, self.client, task, run, self.worker_id, self._runner)
        future.add_done_callback(lambda done: self._finished(run, done))

    def _finished(self, run: Claimed, done: Future[Any]) -> None:
        with self._held_lock:
            self._held.pop(run.id, None)
        error = done.exception()
        if error is not None:
            logger.error("Task run %s ended with an error in the worker: %r", run.id, error)
        else:
            self.completed += 1
        self._slot_freed.set()

    # --- heartbeats ---

    def _heartbeat_loop(self) -> None:
        last = time.monotonic()
        while not self._stopping.is_set() or self._held:
            # Short naps: the interval is learned from the first claim's answer, and must apply at once.
            time.sleep(HEARTBEAT_NAP_SECONDS)
            if time.monotonic() - last < self.heartbeat_seconds:
                continue
            last = time.monotonic()
            with self._held_lock:
                held = list(self._held.values())
            if not held:
                continue
            body = {"worker_id": str(self.worker_id), "runs": [{"id": run.id, "epoch": run.epoch} for run in held]}
            try:
                answer = self.client.post("task-workers/heartbeat/", body, retry_for=self.heartbeat_seconds)
            except APIError as exc:
                logger.warning("Heartbeat failed (%s); the leases run out unless the next one lands.", exc)
                continue
            lost = set(answer.get("lost", []))
            for run in held:
                if run.id in lost:
                    logger.warning("Task run %s: lease lost; its reports stop.", run.id)
                    run.lost.set()
