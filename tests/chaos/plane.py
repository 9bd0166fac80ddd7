"""The production-shaped control plane the chaos tests break: on the private PostgreSQL and Redis.

Migrating takes ~20 s on this machine, so it happens once per test session into a template
database; each scenario gets a fresh copy (`CREATE DATABASE … TEMPLATE`, a fraction of a
second). The web process listens on a fixed port for the scenario's whole life, so a test can
`kill -9` it and start another in its place without the agents noticing anything but errors.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg

from tests.bench.harness import production_env
from tests.chaos.services import PrivatePostgres, PrivateRedis
from tests.e2e.agent_support import TEST_MASTER_KEYS, Server, bootstrap, fresh_database
from tests.support.processes import REPO_ROOT, RunningProcess, free_port, stop, uvicorn_args, wait_until_ready

TEMPLATE_DATABASE = "chaos_template"
# Production's lease: on two loaded cores a restarted web process can take half a minute to
# answer, and a shorter lease would crash runs that are fine. The agent-kill test shortens it.
LEASE_SECONDS = 60
HEARTBEAT_SECONDS = 2

CHAOS_FLOWS = """
import os
import time
from pathlib import Path

from tether import flow, get_run_logger


@flow
def chatty(out: str, key: str, lines: int = 20, interval: float = 0.1) -> int:
    logger = get_run_logger()
    for i in range(lines):
        logger.info("line %d", i)
        time.sleep(interval)
    # "x": a second execution of the same run fails loudly instead of overwriting.
    with open(Path(out) / key, "x") as handle:
        handle.write(str(os.getpid()))
    return lines
"""


@dataclass(frozen=True)
class Template:
    """A migrated, bootstrapped database on the private cluster, and the keys bootstrap issued."""

    postgres: PrivatePostgres
    redis: PrivateRedis
    keys: dict[str, str]
    var_dir: str


def make_template(postgres: PrivatePostgres, redis: PrivateRedis, var_dir: Path) -> Template:
    env = fresh_database(postgres.url(TEMPLATE_DATABASE), REDIS_URL=redis.url(), TETHER_VAR_DIR=str(var_dir))
    return Template(postgres, redis, bootstrap(env), str(var_dir))


@dataclass
class ChaosPlane:
    """One scenario's control plane: its own database, a restartable web process, optional services."""

    template: Template
    tmp: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    web: RunningProcess | None = None
    services: subprocess.Popen[bytes] | None = None
    _starts: int = 0

    @property
    def server(self) -> Server:
        api_url = f"http://127.0.0.1:{self.port}/api/v1/orgs/acme/workspaces/prod"
        keys = self.template.keys
        http = httpx.Client(base_url=api_url + "/", headers={"Authorization": f"Bearer {keys['api_key']}"}, timeout=30)
        return Server(
            f"http://127.0.0.1:{self.port}", api_url, keys["api_key"], keys["agent_key"], self.env, self.web_log, http
        )

    @property
    def web_log(self) -> Path:
        return self.tmp / f"web-{self._starts}.log"

    def start_web(self) -> None:
        self._starts += 1
        with self.web_log.open("wb") as log:
            process = subprocess.Popen(
                uvicorn_args(self.port),
                cwd=REPO_ROOT,
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.web = RunningProcess(process, f"http://127.0.0.1:{self.port}", self.web_log)
        wait_until_ready(self.web, timeout=90)

    def kill_web(self) -> None:
        assert self.web is not None
        self.web.process.send_signal(signal.SIGKILL)
        self.web.process.wait(30)
        self.web = None

    def start_services(self) -> None:
        """The periodic services (lease reaper, ...): what Celery beat and a worker run in production."""
        with (self.tmp / "services.log").open("ab") as log:
            self.services = subprocess.Popen(
                [sys.executable, "manage.py", "run_services"],
                cwd=REPO_ROOT,
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def close(self) -> None:
        # The scenario's database is thrown away: no need to wait out a graceful drain.
        if self.services is not None:
            stop(self.services, signal.SIGTERM, timeout=5)
        if self.web is not None:
            stop(self.web.process, signal.SIGTERM, timeout=5)


@contextlib.contextmanager
def chaos_plane(template: Template, tmp: Path, *, services: bool = True, **settings: str) -> Iterator[ChaosPlane]:
    """A fresh copy of the template database served by one web process (and the periodic services)."""
    name = f"chaos_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(template.postgres.url(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DATABASE}"')
    env: dict[str, str] = {
        **fresh_database_env(template, name),
        "TETHER_AGENT_LEASE_SECONDS": str(LEASE_SECONDS),
        "TETHER_AGENT_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS),
        "TETHER_AGENT_LONG_POLL_SECONDS": "5",
        **settings,
    }
    plane = ChaosPlane(template, tmp, env)
    try:
        plane.start_web()
        if services:
            plane.start_services()
        yield plane
    finally:
        plane.close()


def fresh_database_env(template: Template, name: str) -> dict[str, str]:
    return {
        **production_env(template.postgres.url(name)),
        "TETHER_MASTER_KEYS": TEST_MASTER_KEYS,
        "REDIS_URL": template.redis.url(),
        "TETHER_VAR_DIR": template.var_dir,
        "TETHER_LOG_LEVEL": "INFO",
    }


def write_chaos_flows(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "flows.py").write_text(CHAOS_FLOWS)
    return directory
