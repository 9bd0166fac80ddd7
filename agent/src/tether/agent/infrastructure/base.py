"""What every infrastructure offers the agent: start a run, follow its output, wait, stop it.

An infrastructure knows how to start `python -m tether.engine <flow_run_id>` somewhere (a
local process, a Docker container, a Kubernetes Job) and nothing about the protocol: the
agent (runs.py) decides what a given exit means for the run's state.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from tether.agent.errors import AgentError

# The engine's exit status after it handled SIGTERM itself (it reported CANCELLED): 128 + 15.
EXIT_TERMINATED = 143
# What an infrastructure reports when the run's process vanished without an exit status
# (deleted pod, removed container): the same as a SIGKILL.
EXIT_KILLED = 137


class InfrastructureError(AgentError):
    """A run could not be started or followed on its infrastructure; the message says why."""


@dataclass(frozen=True)
class RunSpec:
    """One run to start: the engine's environment and the run's resolved job variables."""

    flow_run_id: str
    name: str
    # TETHER_API_URL, the run's own token as TETHER_API_KEY, its epoch: never the agent's key.
    env: Mapping[str, str] = field(repr=False)
    job_variables: Mapping[str, Any] = field(default_factory=dict)
    # Where the prepared code is on the agent's host (process and docker); None if the
    # infrastructure brings its own (a Kubernetes image).
    working_dir: Path | None = None

    def engine_args(self, python: str = "python") -> list[str]:
        return [python, "-m", "tether.engine", self.flow_run_id]

    def job_env(self) -> dict[str, str]:
        """The deployment's `env` job variable, as strings."""
        env = self.job_variables.get("env")
        if not isinstance(env, Mapping):
            return {}
        return {str(key): str(value) for key, value in env.items()}


@dataclass(frozen=True)
class Exit:
    """How a run's process ended: its exit status and, when known, why (e.g. `OOMKilled`).

    `code` follows the shell: 0-255 for an exit, negative for a signal on a local process.
    """

    code: int
    reason: str | None = None

    def describe(self) -> str:
        how = f"was killed by signal {-self.code}" if self.code < 0 else f"exited with code {self.code}"
        return f"{how} ({self.reason})" if self.reason else how


class RunHandle(Protocol):
    """A started run. `terminate`/`kill` may be called from another thread than `logs`/`wait`."""

    @property
    def identifier(self) -> str:
        """pid, container id or job name: what an operator looks for."""
        ...

    def logs(self) -> Iterator[str]:
        """The run's output, line by line, until it ends."""
        ...

    def wait(self) -> Exit:
        """Block until the run ends; how it ended."""
        ...

    def terminate(self) -> bool:
        """Ask it to stop (SIGTERM: the engine reports CANCELLED); False if it had already ended."""
        ...

    def kill(self) -> None:
        """Stop it now (SIGKILL, or delete it); no effect if it had already ended."""
        ...


class Infrastructure(Protocol):
    """Where runs execute. `needs_local_code`: whether the agent prepares the source on its host."""

    kind: str
    needs_local_code: bool

    def start(self, spec: RunSpec) -> RunHandle: ...
