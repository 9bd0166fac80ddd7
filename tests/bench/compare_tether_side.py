"""Tether for the side-by-side benchmark: the production-shaped server (uvicorn, one worker per core),
the Celery worker with beat (the periodic services, which Prefect's server runs in-process), and
real `tether agent` processes."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx

from tests.bench.harness import BENCH_DATABASE_URL, server_workers
from tests.e2e.agent_support import AgentProcess, Server, agent, bootstrap, fresh_database, write_flows
from tests.support.processes import REPO_ROOT, free_port, running, uvicorn_args

COMPARE_DATABASE_URL = os.environ.get(
    "TETHER_COMPARE_DATABASE_URL", BENCH_DATABASE_URL.rsplit("/", 1)[0] + "/tether_compare"
)


@dataclass
class TetherSide:
    server: Server
    tmp: Path
    flows: Path
    server_pids: list[int]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.server.api_key}"}

    def deployment(self, pool: str) -> str:
        return self.server.deployment(pool, self.flows, entry="trivial")

    def create_run(self, deployment_id: str) -> str:
        return self.server.create_run(deployment_id)

    def history(self, run_id: str) -> dict[str, float]:
        seen: dict[str, float] = {}
        for state in self.server.get(f"flow-runs/{run_id}/states/"):
            stamp = datetime.fromisoformat(state["timestamp"].replace("Z", "+00:00")).timestamp()
            seen.setdefault(state["type"], stamp)
        return seen

    def state_type(self, run_id: str) -> str:
        return str(self.server.run(run_id)["state_type"])

    def pool(self, name: str) -> None:
        self.server.post("work-pools/", {"name": name})

    def agents_online(self, pool: str) -> int:
        agents = self.server.get("agents/", page_size=200)["results"]
        return sum(1 for item in agents if item.get("status") == "online" and item.get("pool_name") == pool)

    @contextlib.contextmanager
    def agents(self, pool: str, count: int, *, limit: int) -> Iterator[list[AgentProcess]]:
        with contextlib.ExitStack() as stack:
            started = []
            for n in range(count):
                home = self.tmp / f"agent-{pool}-{n}"
                home.mkdir(exist_ok=True)
                # Named apart: agents register by name and pool, and would otherwise all be one.
                args = ("--limit", str(limit), "--name", f"{pool}-{n}")
                started.append(stack.enter_context(agent(self.server, pool, home, *args)))
            yield started


@contextlib.contextmanager
def celery_services(env: dict[str, str], tmp: Path) -> Iterator[subprocess.Popen[bytes]]:
    log_path = tmp / "celery.log"
    command = [
        sys.executable, "-m", "celery", "-A", "controlplane.celery:app", "worker", "-B",
        "--pool", "threads", "--concurrency", "4", "--loglevel", "WARNING", "--without-gossip", "--without-mingle",
        "--schedule", str(tmp / "beat-schedule"),
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        time.sleep(1)
        if process.poll() is not None:
            raise RuntimeError(f"celery exited with {process.returncode}:\n{log_path.read_text()}")
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextlib.contextmanager
def tether_server(tmp: Path) -> Iterator[TetherSide]:
    env = fresh_database(COMPARE_DATABASE_URL)
    keys = bootstrap(env)
    port = free_port()
    with (
        running(uvicorn_args(port, workers=server_workers()), env=env, log_path=tmp / "server.log", port=port) as web,
        celery_services(env, tmp) as services,
        httpx.Client(headers={"Authorization": f"Bearer {keys['api_key']}"}, timeout=60) as http,
    ):
        api_url = f"{web.url}/api/v1/orgs/acme/workspaces/prod"
        http.base_url = httpx.URL(api_url + "/")
        server = Server(web.url, api_url, keys["api_key"], keys["agent_key"], env, web.log_path, http)
        yield TetherSide(server, tmp, write_flows(tmp / "flows"), [web.process.pid, services.pid])
