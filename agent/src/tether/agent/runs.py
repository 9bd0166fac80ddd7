"""One claimed run: prepare its code, start the engine on the pool's infrastructure, watch it.

The engine (`python -m tether.engine <id>`) reports the run's states and logs itself, with
the run token. The agent only steps in when the engine could not: the run's process died
without a final state (CRASHED, with the exit code), or it had to be killed after a cancel
(CANCELLED). A `lost` run is stopped without a word: the server already finalised it. Where
the engine runs (a local process, a container, a Kubernetes Job) is the infrastructure's
business (tether.agent.infrastructure); what an exit means is decided here, the same for all.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tether._api import Client
from tether._redaction import redact
from tether.agent.config import AgentConfig
from tether.agent.errors import SourceError
from tether.agent.infrastructure import (
    EXIT_TERMINATED,
    Exit,
    Infrastructure,
    InfrastructureError,
    RunHandle,
    RunSpec,
)
from tether.agent.references import REDACT_ENV, BlockReferenceError, resolve_job_variables
from tether.agent.source import prepare_source
from tether.exceptions import APIError, TransitionRefused

logger = logging.getLogger("tether.agent")
output_logger = logging.getLogger("tether.agent.run")

# The engine's own exit statuses: it reported a final state (0, 1, 143) or was refused (3).
ENGINE_REPORTED = frozenset({0, 3})
# Answers meaning "the server already knows better": the token died with the claim or the state.
ALREADY_SETTLED = frozenset({401, 404, 409})
# A run handed back by its own engine (a retry in a new process, a suspension) is "lost" to the
# agent a moment before that engine exits by itself: let it finish rather than kill it mid-exit.
LOST_GRACE_SECONDS = 2.0


@dataclass
class ClaimedRun:
    id: str
    name: str
    epoch: int
    token: str = field(repr=False)
    deployment: dict[str, Any] | None
    # The pool's type: which infrastructure runs it (older servers did not say: process).
    infrastructure: str = "process"

    @classmethod
    def from_api(cls, body: dict[str, Any]) -> ClaimedRun:
        run = body["flow_run"]
        return cls(
            id=run["id"],
            name=run["name"],
            epoch=int(run["epoch"]),
            token=body["run_token"],
            deployment=run["deployment"],
            infrastructure=str(run.get("infrastructure") or "process"),
        )

    @property
    def job_variables(self) -> dict[str, Any]:
        variables = (self.deployment or {}).get("job_variables")
        return variables if isinstance(variables, dict) else {}


def code_location(source: dict[str, Any] | None) -> Path | None:
    """Where the code is for an infrastructure that brings its own (an image): a `path` source, or
    the image's working directory. Git sources are cloned by the agent, so they need its host."""
    if not source:
        return None
    if source.get("type") == "path" and source.get("path"):
        return Path(str(source["path"]))
    raise SourceError(
        f"A {source.get('type')!r} source cannot run on this pool: its image must contain the code "
        "(use a `path` source naming the directory in the image, or no source)."
    )


class RunProcess:
    """A claimed run from code preparation to its end; `cancel` and `abandon` are thread-safe."""

    def __init__(
        self,
        run: ClaimedRun,
        config: AgentConfig,
        on_done: Callable[[RunProcess], None],
        infrastructure: Callable[[str], Infrastructure],
    ) -> None:
        self.run = run
        self._config = config
        self._on_done = on_done
        self._infrastructure = infrastructure
        self._lock = threading.Lock()
        self._handle: RunHandle | None = None
        self._ended = threading.Event()
        self.cancel_requested = False
        self.lost = False
        self.exit_code: int | None = None
        self._thread = threading.Thread(target=self._main, name=f"run-{run.name}", daemon=True)

    @property
    def identifier(self) -> str | None:
        return self._handle.identifier if self._handle else None

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
            handle = self._handle
        logger.info("Cancelling %s: SIGTERM, SIGKILL after %.0fs.", self.run.name, self._config.grace_seconds)
        if handle is not None and handle.terminate():
            timer = threading.Timer(self._config.grace_seconds, self._kill_if_running, (handle,))
            timer.daemon = True
            timer.start()

    def abandon(self) -> None:
        """The server says the run is no longer ours: stop it (after a short grace) and report nothing."""
        with self._lock:
            if self.lost:
                return
            self.lost = True
            handle = self._handle
        if self._ended.is_set():
            # Its engine already finished: the heartbeat listed it a moment before, and the server
            # has since released the finished run. Nothing to stop, nothing to warn about.
            logger.debug("Run %s finished before the server released it.", self.run.name)
            return
        if handle is not None:
            # Off the heartbeat thread: the other runs' heartbeats must not wait for this one.
            timer = threading.Timer(LOST_GRACE_SECONDS, self._stop_lost, (handle,))
            timer.daemon = True
            timer.start()

    def _stop_lost(self, handle: RunHandle) -> None:
        if self._ended.is_set():
            return
        logger.warning("Run %s was lost (reclaimed or finalised by the server): stopping it.", self.run.name)
        self._kill_if_running(handle)

    def _kill_if_running(self, handle: RunHandle) -> None:
        if self._ended.is_set():
            return
        try:
            handle.kill()
        except Exception:
            logger.exception("%s: could not kill %s.", self.run.name, handle.identifier)

    def _spec(
        self, working_dir: Path | None, job_variables: dict[str, Any] | None = None, secret_env: list[str] | None = None
    ) -> RunSpec:
        env = {
            "TETHER_API_URL": self._config.api_url,
            # The run's own token, never the agent's key: it can only report about this run.
            "TETHER_API_KEY": self.run.token,
            "TETHER_FLOW_RUN_EPOCH": str(self.run.epoch),
            "PYTHONUNBUFFERED": "1",
        }
        if self._config.ca_bundle and self.run.infrastructure == "process":
            env["TETHER_CA_BUNDLE"] = self._config.ca_bundle
        if secret_env:
            env[REDACT_ENV] = ",".join(secret_env)  # names only: the engine redacts their values
        return RunSpec(
            flow_run_id=self.run.id,
            name=self.run.name,
            env=env,
            job_variables=self.run.job_variables if job_variables is None else job_variables,
            working_dir=working_dir,
        )

    def _main(self) -> None:
        try:
            self._execute()
        except Exception:
            logger.exception("The agent failed while running %s.", self.run.name)
        finally:
            self._ended.set()
            self._on_done(self)

    def _execute(self) -> None:
        source = (self.run.deployment or {}).get("source")
        try:
            infrastructure = self._infrastructure(self.run.infrastructure)
            if infrastructure.needs_local_code:
                working_dir: Path | None = prepare_source(source, self._config.work_dir, reveal=self._reveal_block)
            else:
                working_dir = code_location(source)
            job_variables, secret_env = resolve_job_variables(self.run.job_variables, self._reveal_block)
        except (SourceError, InfrastructureError, BlockReferenceError) as exc:
            logger.error("%s: %s", self.run.name, exc)
            self._report("CRASHED", "Crashed", f"The agent could not prepare the code: {exc}")
            return
        with self._lock:
            if self.lost:
                return
            if self.cancel_requested:
                self._report("CANCELLED", "Cancelled", "Cancelled before its process started.")
                return
            try:
                self._handle = handle = infrastructure.start(self._spec(working_dir, job_variables, secret_env))
            except InfrastructureError as exc:
                logger.error("%s: %s", self.run.name, exc)
                message = f"The run could not start on its {infrastructure.kind} infrastructure: {exc}"
                self._report("CRASHED", "Crashed", message)
                return
        logger.info("Started %s (%s) as %s on %s.", self.run.name, self.run.id, handle.identifier, infrastructure.kind)
        for line in handle.logs():
            output_logger.info("%s | %s", self.run.name, redact(line))
        ended = handle.wait()
        self.exit_code = ended.code
        self._settle(ended)

    def _reveal_block(self, reference: str) -> dict[str, Any]:
        """A block the run's deployment references, revealed with the run's token (never the agent's key)."""
        from tether.blocks.core import reveal_reference

        with Client(self._config.api_url, self.run.token, verify=self._config.ssl_context) as client:
            return reveal_reference(reference, client=client)

    def _settle(self, ended: Exit) -> None:
        with self._lock:
            lost, cancelled = self.lost, self.cancel_requested
        if lost:
            # The server may call a run lost just as its engine finishes on its own (it already
            # holds the final state): say so; report nothing either way.
            if ended.code in ENGINE_REPORTED:
                logger.info("%s finished (exit %d).", self.run.name, ended.code)
            return
        if cancelled:
            logger.info("%s stopped after a cancel (exit %d).", self.run.name, ended.code)
            if ended.code != EXIT_TERMINATED:  # the engine reported CANCELLED itself
                self._report("CANCELLED", "Cancelled", "Cancelled: the process was stopped by the agent.")
            return
        if ended.code in ENGINE_REPORTED:
            logger.info("%s finished (exit %d).", self.run.name, ended.code)
            return
        # The engine may have died before its final report (killed, out of memory, exit 1 on
        # an unreachable server): propose CRASHED; if the run is already final, the token is
        # dead (401) and the server's answer settles it.
        how = ended.describe()
        logger.warning("%s: the process %s.", self.run.name, how)
        self._report("CRASHED", "Crashed", f"The flow run's process {how}.", exit_code=ended.code)

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
