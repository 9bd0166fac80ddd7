"""Prefect 3.8.8 for the side-by-side benchmark: its own virtualenv, server on PostgreSQL, process workers.

Everything Prefect-side runs with the Prefect venv's interpreter (var/prefect-compare/venv,
git-ignored); this module only drives it over HTTP and subprocesses, so Tether's venv never
imports prefect.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx
import psycopg

from tests.support.processes import REPO_ROOT, free_port

PREFECT_VERSION = "3.8.8"
PREFECT_REQUIREMENTS = [f"prefect=={PREFECT_VERSION}", "fastapi==0.139.0"]
PREFECT_DIR = REPO_ROOT / "var" / "prefect-compare"
VENV = PREFECT_DIR / "venv"
PYTHON = VENV / "bin" / "python"
PREFECT_DATABASE = os.environ.get("PREFECT_COMPARE_DATABASE", "prefect_compare")

PREFECT_FLOWS = """
from prefect import flow


@flow
def trivial() -> int:
    return 1
"""

DEPLOY = """
import sys
from prefect import flow

source, pool, name = sys.argv[1:4]
deployment_id = flow.from_source(source=source, entrypoint="flows.py:trivial").deploy(
    name=name, work_pool_name=pool, print_next_steps=False, ignore_warnings=True
)
print(deployment_id)
"""


def ensure_venv() -> None:
    """Create the Prefect venv once; later runs reuse it (pip is only asked when the version differs)."""
    if PYTHON.exists():
        probe = subprocess.run(
            [str(PYTHON), "-c", "import prefect; print(prefect.__version__)"], capture_output=True, text=True
        )
        if probe.stdout.strip() == PREFECT_VERSION:
            return
    PREFECT_DIR.mkdir(parents=True, exist_ok=True)
    subprocess.run(["python3.11", "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(PYTHON), "-m", "pip", "install", "--quiet", *PREFECT_REQUIREMENTS], check=True)


def fresh_database() -> str:
    with psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PREFECT_DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{PREFECT_DATABASE}"')
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{PREFECT_DATABASE}"


def stop_process(process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class PrefectSide:
    url: str
    env: dict[str, str] = field(repr=False)
    process: subprocess.Popen[bytes]
    tmp: Path
    http: httpx.Client = field(repr=False)
    flows: Path = field(init=False)

    def __post_init__(self) -> None:
        self.flows = self.tmp / "prefect-flows"
        self.flows.mkdir(exist_ok=True)
        (self.flows / "flows.py").write_text(PREFECT_FLOWS)

    @property
    def server_pid(self) -> int:
        return self.process.pid

    def prefect(self, *args: str) -> str:
        result = subprocess.run(
            [str(VENV / "bin" / "prefect"), *args], env=self.env, cwd=self.tmp, capture_output=True, text=True
        )
        if result.returncode != 0:
            raise RuntimeError(f"prefect {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def pool(self, name: str) -> None:
        self.prefect("work-pool", "create", name, "--type", "process", "--overwrite")

    def deployment(self, pool: str) -> str:
        """A process work pool and `trivial` deployed to it the documented way (`flow.from_source().deploy()`)."""
        self.pool(pool)
        out = subprocess.run(
            [str(PYTHON), "-c", DEPLOY, str(self.flows), pool, f"trivial-{pool}"],
            env=self.env,
            cwd=self.tmp,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return out.strip().splitlines()[-1]

    def create_run(self, deployment_id: str) -> str:
        response = self.http.post(f"deployments/{deployment_id}/create_flow_run", json={})
        response.raise_for_status()
        return str(response.json()["id"])

    def history(self, run_id: str) -> dict[str, float]:
        """First timestamp of each state type of the run, as epoch seconds."""
        response = self.http.get("flow_run_states/", params={"flow_run_id": run_id})
        response.raise_for_status()
        seen: dict[str, float] = {}
        for state in sorted(response.json(), key=lambda s: s["timestamp"]):
            seen.setdefault(state["type"], datetime.fromisoformat(state["timestamp"]).timestamp())
        return seen

    def state_type(self, run_id: str) -> str:
        response = self.http.get(f"flow_runs/{run_id}")
        response.raise_for_status()
        return str(response.json()["state_type"])

    def workers_online(self, pool: str) -> int:
        response = self.http.post(f"work_pools/{pool}/workers/filter", json={"limit": 200})
        response.raise_for_status()
        return sum(1 for worker in response.json() if worker.get("status") == "ONLINE")

    @contextlib.contextmanager
    def workers(self, pool: str, count: int, *, limit: int) -> Iterator[list[subprocess.Popen[bytes]]]:
        """`count` times `prefect worker start --pool POOL --type process --limit N`, each its own process."""
        processes: list[subprocess.Popen[bytes]] = []
        try:
            for index in range(count):
                log = (self.tmp / f"prefect-worker-{pool}-{index}.log").open("wb")
                command = [
                    str(VENV / "bin" / "prefect"),
                    *("worker", "start", "--pool", pool, "--type", "process"),
                    *("--limit", str(limit), "--name", f"worker-{index}"),
                ]
                processes.append(
                    subprocess.Popen(command, env=self.env, cwd=self.tmp, stdout=log, stderr=subprocess.STDOUT)
                )
                log.close()
            yield processes
        finally:
            for process in processes:
                process.send_signal(signal.SIGTERM)
            for process in processes:
                stop_process(process)


@contextlib.contextmanager
def prefect_server(tmp: Path) -> Iterator[PrefectSide]:
    """`prefect server start` on its own PostgreSQL database, until the block ends."""
    ensure_venv()
    port = free_port()
    home = PREFECT_DIR / "home"
    home.mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/root"),
        "PREFECT_HOME": str(home),
        "PREFECT_API_DATABASE_CONNECTION_URL": fresh_database(),
        "PREFECT_SERVER_API_HOST": "127.0.0.1",
        "PREFECT_SERVER_API_PORT": str(port),
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }
    log = (tmp / "prefect-server.log").open("wb")
    process = subprocess.Popen(
        [str(VENV / "bin" / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=tmp,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    url = f"http://127.0.0.1:{port}/api/"
    try:
        wait_healthy(url, process, tmp / "prefect-server.log")
        with httpx.Client(base_url=url, timeout=60) as http:
            yield PrefectSide(url, env, process, tmp, http)
    finally:
        stop_process(process, timeout=60)


def wait_healthy(url: str, process: subprocess.Popen[bytes], log_path: Path, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"prefect server exited with {process.returncode}:\n{log_path.read_text()}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url + "health", timeout=5).status_code == 200:
                return
        time.sleep(0.5)
    raise TimeoutError(f"prefect server not healthy after {timeout}s:\n{log_path.read_text()}")
