"""The agent's loop: hello, claim on wake-ups (or by long-poll), heartbeat, drain on SIGTERM.

Threads: the main thread claims; one thread heartbeats (a busy run never starves it); one
keeps the control channel open; one per run prepares the code and watches the process.
"""

from __future__ import annotations

import logging
import signal
import ssl
import threading
import time
from dataclasses import dataclass
from types import FrameType
from typing import Any

from tether._api import Client, backoff_delay
from tether._claims import retry_after_seconds
from tether._version import __version__
from tether.agent.config import AgentConfig
from tether.agent.control import ControlChannel
from tether.agent.errors import AgentError, UntrustedCertificate
from tether.agent.infrastructure import Infrastructure, build_infrastructure
from tether.agent.runs import ClaimedRun, RunProcess
from tether.agent.status import AgentStats
from tether.exceptions import APIError

logger = logging.getLogger("tether.agent")

# Long enough for the longest long-poll the server allows (30 s) and a slow answer.
HTTP_TIMEOUT_SECONDS = 60.0
# Answers that no retry will change: the key, the pool or the request is wrong.
FATAL_STATUSES = frozenset({400, 401, 403, 422})


@dataclass(frozen=True)
class Timings:
    heartbeat_seconds: float
    lease_seconds: float
    long_poll_seconds: float
    prefetch_seconds: float

    @classmethod
    def from_api(cls, body: dict[str, Any]) -> Timings:
        return cls(
            heartbeat_seconds=float(body.get("heartbeat_seconds", 15)),
            lease_seconds=float(body.get("lease_seconds", 60)),
            long_poll_seconds=float(body.get("long_poll_seconds", 25)),
            prefetch_seconds=float(body.get("prefetch_seconds", 5)),
        )


def untrusted_certificate(exc: BaseException) -> bool:
    """Whether a connection failed because the server's certificate is not trusted."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class Agent:
    def __init__(self, config: AgentConfig) -> None:
        self.config = config
        self.client = Client(config.api_url, config.api_key, timeout=HTTP_TIMEOUT_SECONDS, verify=config.ssl_context)
        self.agent_id = ""
        self.timings = Timings(15, 60, 25, 5)
        self._runs: dict[str, RunProcess] = {}
        self._runs_lock = threading.Lock()
        self._wake = threading.Event()
        self._draining = threading.Event()
        self._stop_now = threading.Event()
        self._heartbeat_stop = threading.Event()
        self._control: ControlChannel | None = None
        # One per pool type seen, built on first use (docker and kubernetes clients are reused).
        self._infrastructures: dict[str, Infrastructure] = {}
        self._infrastructures_lock = threading.Lock()
        self.stats = AgentStats(name=config.name, pool=config.pool, version=__version__)

    # Public entry point.

    def run(self) -> int:
        """Serve until SIGTERM/SIGINT, then drain; 0 after a clean drain, 1 on a fatal error."""
        self._install_signal_handlers()
        try:
            self._hello()
        except AgentError as exc:
            logger.error("%s", exc)
            return 1
        if self._draining.is_set():
            return 0
        heartbeat = threading.Thread(target=self._heartbeat_loop, name="heartbeat", daemon=True)
        heartbeat.start()
        if self.config.websocket:
            self._control = ControlChannel(
                self.config,
                self.agent_id,
                on_wake=self._wake.set,
                on_cancel=self._cancel,
                on_disconnect=self._wake.set,
            )
            self._control.start()
        else:
            logger.info("WebSocket disabled: claiming by long-poll.")
        if self._control is not None:
            # A first claim as a long-poll could not be interrupted by the first wake-up: give
            # the WebSocket a moment to open (it claims once as soon as it does).
            self._control.connected.wait(2.0)
        status = 0
        try:
            self._claim_loop()
        except AgentError as exc:
            logger.error("%s", exc)
            status = 1
        finally:
            if self._control is not None:
                self._control.stop()
            self._drain()
            self._heartbeat_stop.set()
            heartbeat.join(5)
            self.client.close()
        logger.info("Agent stopped.")
        return status

    # Signals.

    def _install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self._draining.is_set():
            logger.warning("Second stop signal: cancelling the runs still going.")
            self._stop_now.set()
        else:
            logger.info("Stop signal: no new claims; draining %d run(s).", len(self._runs))
            self._draining.set()
        self._wake.set()

    # Protocol.

    def _request(self, path: str, body: dict[str, Any], *, retry_for: float = 0.0) -> dict[str, Any]:
        try:
            result: dict[str, Any] = self.client.request("POST", path, json=body, retry_for=retry_for).json()
        except APIError as exc:
            if untrusted_certificate(exc):
                raise UntrustedCertificate(
                    f"The control plane's TLS certificate is not trusted ({self.config.api_url}). "
                    "Set TETHER_CA_BUNDLE to the PEM file of the CA that signed it."
                ) from None
            raise
        return result

    def _hello(self) -> None:
        body = {
            "name": self.config.name,
            "pool": self.config.pool,
            "queues": list(self.config.queues),
            "capacity": self.config.limit,
            "version": __version__,
        }
        attempt = 0
        while not self._draining.is_set():
            try:
                answer = self._request("agents/hello/", body)
            except APIError as exc:
                if exc.status_code is not None and exc.status_code < 500 and exc.status_code != 429:
                    hint = {
                        401: "TETHER_API_KEY is not valid",
                        403: "the key may not claim runs here (use a worker-role key)",
                        404: f"no pool {self.config.pool!r} (or queue) in this workspace, or a wrong TETHER_API_URL",
                    }.get(exc.status_code, "the request was refused")
                    raise AgentError(f"The control plane refused the agent: {hint}. ({exc})") from None
                delay = backoff_delay(attempt, base=1.0, cap=30.0)
                logger.warning("Cannot reach the control plane (%s); retrying in %.1fs.", exc, delay)
                self._draining.wait(delay)
                attempt += 1
                continue
            self.agent_id = str(answer["agent_id"])
            self.timings = Timings.from_api(answer.get("timings") or {})
            self.stats.update(agent_id=self.agent_id, heartbeat_seconds=self.timings.heartbeat_seconds)
            self._write_status()
            logger.info(
                "Agent %r (%s) serving pool %r%s, limit %d; heartbeat %.0fs, lease %.0fs.",
                self.config.name,
                self.agent_id,
                self.config.pool,
                f" queues {list(self.config.queues)}" if self.config.queues else "",
                self.config.limit,
                self.timings.heartbeat_seconds,
                self.timings.lease_seconds,
            )
            return

    def _claim_loop(self) -> None:
        attempt = 0
        while not self._draining.is_set():
            free = self.config.limit - self._active()
            if free <= 0:
                self._wait_for_wake(self.config.claim_interval)
                self._wake.clear()
                continue
            pushed = self._control is not None and self._control.connected.is_set()
            wait = 0.0 if pushed else min(30.0, self.timings.long_poll_seconds)
            self._wake.clear()
            try:
                answer = self._request(f"agents/{self.agent_id}/claim/", {"capacity": free, "wait_seconds": wait})
            except APIError as exc:
                self.stats.count(claim_failures=1)
                if exc.status_code == 404:
                    logger.warning("The server no longer knows this agent: saying hello again.")
                    self._hello()
                    continue
                if exc.status_code in FATAL_STATUSES:
                    raise AgentError(f"Claims are refused: {exc}") from None
                delay = backoff_delay(attempt, base=0.5, cap=30.0)
                logger.warning("Claim failed (%s); retrying in %.1fs.", exc, delay)
                self._draining.wait(delay)
                attempt += 1
                continue
            attempt = 0
            claimed = [ClaimedRun.from_api(item) for item in answer.get("runs", [])]
            self.stats.count(claims=1)
            for run in claimed:
                self._start(run)
            refused_for = retry_after_seconds(answer)
            if len(claimed) < free and (pushed or wait == 0):
                # Nothing more is due: sleep until a wake-up, a finished run, or the safety timer.
                self._wait_for_wake(self.config.claim_interval)
            elif not claimed and refused_for > 0:
                # The server held no place for this long-poll: come back when it said (or on a wake-up).
                logger.debug("Long-poll refused by a busy server; claiming again in %.1fs.", refused_for)
                self._wait_for_wake(refused_for)

    def _wait_for_wake(self, timeout: float) -> None:
        # Short slices: the kernel may deliver SIGTERM to another thread, and Python then runs
        # the handler only when the main thread next runs bytecode; a stop must not wait 5 s.
        deadline = time.monotonic() + timeout
        while not self._wake.is_set() and not self._draining.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._wake.wait(min(0.2, left))

    def _infrastructure(self, kind: str) -> Infrastructure:
        with self._infrastructures_lock:
            if kind not in self._infrastructures:
                self._infrastructures[kind] = build_infrastructure(kind, ca_bundle=self.config.ca_bundle)
            return self._infrastructures[kind]

    def _start(self, run: ClaimedRun) -> None:
        process = RunProcess(run, self.config, self._finished, self._infrastructure)
        with self._runs_lock:
            self._runs[run.id] = process
        self.stats.count(runs_started=1, runs_active=1)
        process.start()

    def _finished(self, process: RunProcess) -> None:
        with self._runs_lock:
            self._runs.pop(process.run.id, None)
        self.stats.count(runs_finished=1, runs_active=-1)
        self._wake.set()  # a slot is free

    def _active(self) -> int:
        with self._runs_lock:
            return len(self._runs)

    def _snapshot(self) -> list[RunProcess]:
        with self._runs_lock:
            return list(self._runs.values())

    def _cancel(self, run_id: str) -> None:
        with self._runs_lock:
            process = self._runs.get(run_id)
        if process is not None:
            process.cancel()

    def _heartbeat_loop(self) -> None:
        while not self._heartbeat_stop.wait(self.timings.heartbeat_seconds):
            self._heartbeat_once()
            self._write_status()

    def _write_status(self) -> None:
        if self._control is None:
            channel = "off (long-poll)"
        else:
            channel = "connected" if self._control.connected.is_set() else "reconnecting (long-poll)"
        self.stats.update(control_channel=channel)
        try:
            self.stats.write(self.config.work_dir)
        except OSError as exc:
            logger.warning("Cannot write the agent status file in %s: %s", self.config.work_dir, exc)

    def _heartbeat_once(self) -> None:
        held = self._snapshot()
        body = {"runs": [{"id": p.run.id, "epoch": p.run.epoch} for p in held]}
        try:
            answer = self._request(
                f"agents/{self.agent_id}/heartbeat/", body, retry_for=max(1.0, self.timings.heartbeat_seconds / 2)
            )
        except (APIError, AgentError) as exc:
            self.stats.count(heartbeat_failures=1)
            logger.warning("Heartbeat failed (%s); the next one retries.", exc)
            return
        self.stats.update(last_heartbeat_ok_at=time.time())
        by_id = {p.run.id: p for p in held}
        for run_id in answer.get("lost", []):
            if run_id in by_id:
                by_id[run_id].abandon()
        for run_id in answer.get("cancel", []):
            if run_id in by_id:
                by_id[run_id].cancel()

    def _drain(self) -> None:
        deadline = time.monotonic() + self.config.drain_timeout
        if self._active():
            logger.info("Draining: waiting up to %.0fs for %d run(s).", self.config.drain_timeout, self._active())
        while self._active() and time.monotonic() < deadline and not self._stop_now.is_set():
            self._stop_now.wait(0.2)
        remaining = self._snapshot()
        if not remaining:
            return
        logger.warning("Drain over: cancelling %d run(s) still going.", len(remaining))
        for process in remaining:
            process.cancel()
        for process in remaining:
            process.join(self.config.grace_seconds + 5)
