"""The default infrastructure: the engine as a child process of the agent, in its own session."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping

from tether.agent.infrastructure.base import Exit, RunSpec

# Environment the run never inherits from the agent: it gets its own values or none.
AGENT_ONLY_ENV = ("TETHER_API_KEY", "TETHER_FLOW_RUN_EPOCH")


def process_environment(spec: RunSpec, inherited: Mapping[str, str]) -> dict[str, str]:
    """The agent's environment minus its key, then the job's `env`, then the run's own values."""
    env = {k: v for k, v in inherited.items() if k not in AGENT_ONLY_ENV}
    env.update({k: v for k, v in spec.job_env().items() if k not in AGENT_ONLY_ENV})
    env.update(spec.env)
    return env


class ProcessHandle:
    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self._process = process

    @property
    def identifier(self) -> str:
        return f"pid {self._process.pid}"

    def logs(self) -> Iterator[str]:
        assert self._process.stdout is not None
        for raw in self._process.stdout:
            yield raw.decode("utf-8", "replace").rstrip()

    def wait(self) -> Exit:
        return Exit(self._process.wait())

    def terminate(self) -> bool:
        return self._signal(signal.SIGTERM)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)

    def _signal(self, signum: int) -> bool:
        if self._process.poll() is not None:
            return False
        try:
            # The engine leads its own session: its children go with it.
            os.killpg(self._process.pid, signum)
        except ProcessLookupError:
            return False
        return True


class ProcessInfrastructure:
    kind = "process"
    needs_local_code = True

    def start(self, spec: RunSpec) -> ProcessHandle:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            spec.engine_args(sys.executable),
            cwd=spec.working_dir,
            env=process_environment(spec, os.environ),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return ProcessHandle(process)
