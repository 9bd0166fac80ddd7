"""Real server + real agent processes for the agent's end-to-end tests and its benchmark."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from tests.bench.harness import manage, production_env
from tests.support.processes import REPO_ROOT, free_port, running, uvicorn_args

AGENT_DATABASE_URL = os.environ.get(
    "TETHER_AGENT_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tether_agent_tests"
)
FINAL = {"COMPLETED", "FAILED", "CANCELLED", "CRASHED"}

FLOWS = """
import os
import signal
import time
from pathlib import Path

from tether import flow


@flow
def marker(out: str, key: str, sleep: float = 0.0) -> str:
    time.sleep(sleep)
    # "x": a second execution of the same run fails loudly instead of overwriting.
    with open(Path(out) / key, "x") as handle:
        handle.write(str(os.getpid()))
    return key


@flow
def stubborn(sleep: float = 60.0) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # only SIGKILL stops this one
    time.sleep(sleep)


@flow
def trivial() -> int:
    return 1
"""


@dataclass
class Server:
    url: str
    api_url: str
    api_key: str
    agent_key: str
    env: dict[str, str]
    log_path: Path
    http: httpx.Client = field(repr=False)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        response = self.http.post(path, json=body)
        assert response.status_code < 300, response.text
        return response.json()

    def get(self, path: str, **params: Any) -> Any:
        response = self.http.get(path, params=params)
        response.raise_for_status()
        return response.json()

    def deployment(self, pool: str, flow_dir: Path, entry: str = "marker") -> str:
        self.post("work-pools/", {"name": pool})
        body = {
            "flow_name": entry,
            "name": f"{entry}-{pool}",
            "entrypoint": f"flows.py:{entry}",
            "source": {"type": "path", "path": str(flow_dir)},
            "work_pool_name": pool,
        }
        return str(self.post("deployments/", body)["id"])

    def create_run(self, deployment_id: str, **parameters: Any) -> str:
        return str(self.post("flow-runs/", {"deployment_id": deployment_id, "parameters": parameters})["id"])

    def run(self, run_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.get(f"flow-runs/{run_id}/")
        return result

    def wait_for(self, run_id: str, states: set[str], timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            run = self.run(run_id)
            if run["state_type"] in states:
                return run
            if time.monotonic() > deadline:
                raise AssertionError(f"run {run_id} is {run['state_type']}, not {states}, after {timeout}s")
            time.sleep(0.1)

    def reap(self) -> None:
        manage("shell", "-c", "from controlplane.services.leases import reap; reap()", env=self.env)


def write_flows(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "flows.py").write_text(FLOWS)
    return directory


# Production settings need master keys; a fixed, test-only one (never a real secret).
TEST_MASTER_KEYS = "agenttests:" + "A" * 43


def fresh_database(url: str, **settings: str) -> dict[str, str]:
    """Drop, recreate and migrate `url`; the server environment that points at it."""
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    env = {**production_env(url), "TETHER_MASTER_KEYS": TEST_MASTER_KEYS, **settings}
    manage("migrate", "-v", "0", env=env)
    return env


def bootstrap(env: dict[str, str]) -> dict[str, str]:
    """The acme/prod workspace and its keys (`manage.py bootstrap --json`) in the database of `env`."""
    keys: dict[str, str] = json.loads(
        manage(
            "bootstrap",
            *("--org", "acme", "--workspace", "prod", "--email", "agent@acme.test", "--password", "agent-pass-0123"),
            "--json",
            env=env,
        )
    )
    return keys


@contextlib.contextmanager
def serving(env: dict[str, str], keys: dict[str, str], log_path: Path, *, workers: int = 1) -> Iterator[Server]:
    """One web process (uvicorn) on the database and Redis of `env`, until the block ends."""
    port = free_port()
    with running(uvicorn_args(port, workers=workers), env=env, log_path=log_path, port=port) as server:
        api_url = f"{server.url}/api/v1/orgs/acme/workspaces/prod"
        headers = {"Authorization": f"Bearer {keys['api_key']}"}
        with httpx.Client(base_url=api_url + "/", headers=headers, timeout=30) as http:
            yield Server(server.url, api_url, keys["api_key"], keys["agent_key"], env, log_path, http)


@contextlib.contextmanager
def control_plane(tmp: Path, database_url: str = AGENT_DATABASE_URL, **settings: str) -> Iterator[Server]:
    env = fresh_database(database_url, **settings)
    with serving(env, bootstrap(env), tmp / "server.log") as server:
        yield server


@contextlib.contextmanager
def control_plane_replicas(
    tmp: Path, database_url: str, settings: dict[str, str], *, count: int = 2
) -> Iterator[list[Server]]:
    """`count` independent web processes sharing one database and one Redis (channel layer, broker)."""
    env = fresh_database(database_url, **settings)
    keys = bootstrap(env)
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(serving(env, keys, tmp / f"replica-{n}.log")) for n in range(count)]


@dataclass
class AgentProcess:
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def engines(self) -> list[int]:
        """Pids of the engine processes this agent started (its children)."""
        return [pid for pid in children(self.pid) if b"tether.engine" in cmdline(pid)]

    def stop(self, timeout: float = 30.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def agent_env(server: Server, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TETHER_")}
    env.update({"TETHER_API_URL": server.api_url, "TETHER_API_KEY": server.agent_key, **extra})
    return env


@contextlib.contextmanager
def agent(
    server: Server, pool: str, tmp: Path, *args: str, env: dict[str, str] | None = None
) -> Iterator[AgentProcess]:
    log_path = tmp / f"agent-{uuid.uuid4().hex[:6]}.log"
    command = [sys.executable, "-m", "tether", "agent", "start", "--pool", pool, "--work-dir", str(tmp / "work"), *args]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env or agent_env(server), stdout=log, stderr=subprocess.STDOUT
        )
    handle = AgentProcess(process, log_path)
    try:
        yield handle
    finally:
        for pid in handle.engines():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        handle.stop()


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: the ppid follows the last ')'.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def listening_sockets(pid: int) -> set[int]:
    """Inodes of the LISTEN sockets that `pid` holds (TCP and TCP6)."""
    listening: set[int] = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A":  # TCP_LISTEN
                listening.add(int(fields[9]))
    return listening & socket_inodes(pid)


def socket_inodes(pid: int) -> set[int]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(int(target[8:-1]))
    return inodes


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def wait_until(predicate: Any, timeout: float, message: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(message or f"condition not met in {timeout}s")
        time.sleep(0.05)
