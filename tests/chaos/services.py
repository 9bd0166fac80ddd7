"""A private PostgreSQL cluster and a private Redis that the chaos tests may stop, kill and restart.

The machine's shared PostgreSQL (5432) and Redis (6379) serve every other suite running in
parallel, so they are never touched here: each chaos module gets its own `initdb` cluster and
its own `redis-server` on free ports, in directories removed afterwards.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import redis

# initdb and postgres refuse to run as root; as root the cluster runs as this user.
POSTGRES_USER = "postgres"
_SERVER_OPTIONS = (
    # Durability is not under test (the cluster is thrown away); speed on two cores is.
    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
    "-c max_connections=200 -c shared_buffers=32MB -c listen_addresses=127.0.0.1"
)


def _postgres_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    on_path = shutil.which(name)
    if on_path is None:
        raise RuntimeError(f"{name} not found: install the PostgreSQL server binaries")
    return on_path


def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", POSTGRES_USER, "--", *args] if os.geteuid() == 0 else args


def _wait_for(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise TimeoutError(f"{what} after {timeout}s")


class PrivatePostgres:
    """One throw-away cluster on 127.0.0.1:`port`, trust authentication, superuser `postgres`."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.root = Path(tempfile.mkdtemp(prefix="tether-chaos-pg-"))
        self.data = self.root / "data"
        self.log_path = self.root / "postgres.log"
        if os.geteuid() == 0:
            account = pwd.getpwnam(POSTGRES_USER)
            os.chown(self.root, account.pw_uid, account.pw_gid)
        self.root.chmod(0o700)
        subprocess.run(
            _as_postgres(
                [_postgres_bin("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8"]
            ),
            check=True,
            capture_output=True,
        )

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            _as_postgres([_postgres_bin("pg_ctl"), "-D", str(self.data), *args]), check=True, capture_output=True
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} {_SERVER_OPTIONS}"
        self._ctl("-o", options, "-l", str(self.log_path), "-w", "-t", "60", "start")
        _wait_for(self.accepts_connections, 30, "PostgreSQL does not accept connections")

    def stop(self) -> None:
        """A fast shutdown: every open connection is cut, as when the database host restarts."""
        self._ctl("-m", "fast", "-w", "-t", "60", "stop")

    def restart(self) -> None:
        self.stop()
        self.start()

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def accepts_connections(self) -> bool:
        try:
            with psycopg.connect(self.url(), connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False

    def remove(self) -> None:
        if self.running():
            with contextlib.suppress(subprocess.CalledProcessError):
                self._ctl("-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


class PrivateRedis:
    """`redis-server` on 127.0.0.1:`port` without persistence: a restart comes back empty."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.root = Path(tempfile.mkdtemp(prefix="tether-chaos-redis-"))
        self.log_path = self.root / "redis.log"
        self._process: subprocess.Popen[bytes] | None = None

    def url(self, database: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        command = [
            *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""),
            *("--appendonly", "no", "--daemonize", "no", "--dir", str(self.root), "--logfile", str(self.log_path)),
        ]
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        _wait_for(self.answers, 30, "Redis does not answer PING")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGKILL)  # no goodbye to clients: the host went away
            self._process.wait(30)
        self._process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def answers(self) -> bool:
        client = redis.Redis(port=self.port, socket_connect_timeout=1, socket_timeout=1)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def private_postgres_cluster(port: int) -> Iterator[PrivatePostgres]:
    cluster = PrivatePostgres(port)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


@contextlib.contextmanager
def private_redis_server(port: int) -> Iterator[PrivateRedis]:
    server = PrivateRedis(port)
    try:
        server.start()
        yield server
    finally:
        server.remove()
