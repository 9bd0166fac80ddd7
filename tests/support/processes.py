"""Start real server processes for end-to-end tests and benchmarks."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningProcess:
    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def wait_until_ready(process: RunningProcess, path: str = "/readyz", timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.process.poll() is not None:
            raise RuntimeError(f"process exited with {process.process.returncode}:\n{process.log()}")
        try:
            if httpx.get(process.url + path, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{process.url}{path} not ready after {timeout}s:\n{process.log()}")


def kill_group(process: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    """Signal `process` and everything it started, when it leads its own group (see `running`):
    uvicorn's workers and Celery's embedded beat are child processes that outlive their parent."""
    try:
        if os.getpgid(process.pid) == process.pid:
            os.killpg(process.pid, sig)
            return
    except ProcessLookupError:
        return
    process.send_signal(sig)


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGINT, timeout: float = 15.0) -> int:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            kill_group(process)
            process.wait()
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # children left behind by a parent that is gone
    return process.returncode


@contextmanager
def running(
    args: list[str], *, env: Mapping[str, str], log_path: Path, port: int, ready_path: str = "/readyz"
) -> Iterator[RunningProcess]:
    """Run `args` (a server listening on `port`) until the block ends, then stop it with SIGINT."""
    full_env = {**os.environ, **env}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            args, cwd=REPO_ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    handle = RunningProcess(process=process, url=f"http://127.0.0.1:{port}", log_path=log_path)
    try:
        wait_until_ready(handle, ready_path)
        yield handle
    finally:
        stop(process)


def uvicorn_args(port: int, *, workers: int = 1) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "controlplane.asgi:application",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--lifespan",
        "off",
        "--no-access-log",
        "--workers",
        str(workers),
    ]
