"""One claimed run on the process infrastructure: prepare its code, start the engine, watch it.

The engine (`python -m tether.engine <id>`) reports the run's states and logs itself, with
the run token. The agent only steps in when the engine could not: the process died without
a final state (CRASHED, with the exit code), or it had to be killed after a cancel
(CANCELLED). A `lost` run is stopped without a word: the server already finalised it.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tether._api import Client
from tether.agent.config import AgentConfig
from tether.agent.errors import SourceError
from tether.agent.source import prepare_source
from tether.exceptions import APIError, TransitionRefused

logger = logging.getLogger("tether.agent")
output_logger = logging.getLogger("tether.agent.run")

# The engine's own exit statuses: it reported a final state (0, 1, 143) or was refused (3).
ENGINE_REPORTED = frozenset({0, 3})
# Answers meaning "the server already knows better": the token died with the claim or the state.
ALREADY_SETTLED = frozenset({401, 404, 409})
# Environment the run never inherits from the agent: it gets its own values or none.
AGENT_ONLY_ENV = ("TETHER_API_KEY", "TETHER_FLOW_RUN_EPOCH")


@dataclass
class ClaimedRun:
    id: str
    name: str
    epoch: int
    token: str = field(repr=False)
    deployment: dict[str, Any] | None

    @classmethod
    def from_api(cls, body: dict[str, Any]) -> ClaimedRun:
        run = body["flow_run"]
        return cls(
            id=run["id"],
            name=run["name"],
            epoch=int(run["epoch"]),
            token=body["run_token"],
            deployment=run["deployment"],
        )


class RunProcess:
    """A claimed run from code preparation to its process's exit; `cancel` and `abandon` are thread-safe."""

    def __init__(self, run: ClaimedRun, config: AgentConfig, on_done: Callable[[RunProcess], None]) -> None:
        self.run = run
        self._config = config
        self._on_done = on_done
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self.cancel_requested = False
        self.lost = False
        self.exit_code: int | None = None
        self._thread = threading.Thread(target=self._main, name=f"run-{run.name}", daemon=True)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def cancel(self) -> None:
        """SIGTERM (the engine reports CANCELLED), then SIGKILL after the grace period."""
        with self._lock:
            if self.cancel_requested or self.lost:
                return
            self.cancel_requested = True
            process = self._process
        logger.info("Cancelling %s: SIGTERM, SIGKILL after %.0fs.", self.run.name, self._config.grace_seconds)
        if process is not None and self._signal(process, signal.SIGTERM):
            timer = threading.Timer(self._config.grace_seconds, self._signal, (process, signal.SIGKILL))
            timer.daemon = True
            timer.start()

    def abandon(self) -> None:
        """The server says the run is no longer ours: stop it at once and report nothing."""
        with self._lock:
            if self.lost:
                return
            self.lost = True
            process = self._process
        logger.warning("Run %s was lost (reclaimed or finalised by the server): stopping it.", self.run.name)
        if process is not None:
            self._signal(process, signal.SIGKILL)

    @staticmethod
    def _signal(process: subprocess.Popen[bytes], signum: int) -> bool:
        if process.poll() is not None:
            return False
        try:
            # The engine leads its own session: its children go with it.
            os.killpg(process.pid, signum)
        except ProcessLookupError:
            return False
        return True

    def _environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in AGENT_ONLY_ENV}
        job_env = ((self.run.deployment or {}).get("job_variables") or {}).get("env")
        if isinstance(job_env, dict):
            env.update({str(k): str(v) for k, v in job_env.items() if k not in AGENT_ONLY_ENV})
        env.update(
            {
                "TETHER_API_URL": self._config.api_url,
                # The run's own token, never the agent's key: it can only report about this run.
                "TETHER_API_KEY": self.run.token,
                "TETHER_FLOW_RUN_EPOCH": str(self.run.epoch),
                "PYTHONUNBUFFERED": "1",
            }
        )
        if self._config.ca_bundle:
            env["TETHER_CA_BUNDLE"] = self._config.ca_bundle
        return env

    def _main(self) -> None:
        try:
            self._execute()
        except Exception:
            logger.exception("The agent failed while running %s.", self.run.name)
        finally:
            self._on_done(self)

    def _execute(self) -> None:
        try:
            cwd = prepare_source((self.run.deployment or {}).get("source"), self._config.work_dir)
        except SourceError as exc:
            logger.error("%s: %s", self.run.name, exc)
            self._report("CRASHED", "Crashed", f"The agent could not prepare the code: {exc}")
            return
        with self._lock:
            if self.lost:
                return
            if self.cancel_requested:
                self._report("CANCELLED", "Cancelled", "Cancelled before its process started.")
                return
            self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-m", "tether.engine", self.run.id],
                cwd=cwd,
                env=self._environment(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            process = self._process
        logger.info("Started %s (%s) as pid %d in %s.", self.run.name, self.run.id, process.pid, cwd)
        assert process.stdout is not None
        for raw in process.stdout:
            output_logger.info("%s | %s", self.run.name, raw.decode("utf-8", "replace").rstrip())
        self.exit_code = code = process.wait()
        self._settle(code)

    def _settle(self, code: int) -> None:
        with self._lock:
            lost, cancelled = self.lost, self.cancel_requested
        if lost:
            return
        if cancelled:
            logger.info("%s stopped after a cancel (exit %d).", self.run.name, code)
            if code != 143:  # 143: the engine reported CANCELLED itself
                self._report("CANCELLED", "Cancelled", "Cancelled: the process was stopped by the agent.")
            return
        if code in ENGINE_REPORTED:
            logger.info("%s finished (exit %d).", self.run.name, code)
            return
        # The engine may have died before its final report (killed, out of memory, exit 1 on
        # an unreachable server): propose CRASHED; if the run is already final, the token is
        # dead (401) and the server's answer settles it.
        how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
        logger.warning("%s: the process %s.", self.run.name, how)
        self._report("CRASHED", "Crashed", f"The flow run's process {how}.", exit_code=code)

    def _report(self, state_type: str, name: str, message: str, *, exit_code: int | None = None) -> None:
        state: dict[str, Any] = {
            "type": state_type,
            "name": name,
            "message": message,
            "details": {} if exit_code is None else {"exit_code": exit_code},
            "timestamp": datetime.now(UTC).isoformat(),
        }
        try:
            with Client(self._config.api_url, self.run.token, verify=self._config.ssl_context) as client:
                client.set_flow_run_state(self.run.id, state, epoch=self.run.epoch, max_wait=0)
        except TransitionRefused:
            logger.info("%s: the server already has a final state; not reporting %s.", self.run.name, state_type)
        except APIError as exc:
            if exc.status_code in ALREADY_SETTLED:
                logger.info("%s: the server already settled the run; not reporting %s.", self.run.name, state_type)
            else:
                logger.error("%s: could not report %s: %s", self.run.name, state_type, exc)
        else:
            logger.info("%s: reported %s.", self.run.name, state_type)
