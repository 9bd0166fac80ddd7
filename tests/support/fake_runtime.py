"""What the fake Docker Engine and the fake Kubernetes API run: a "container" as a local process.

A container's command runs here, on the test host, with exactly the environment and working
directory the container spec gives it (`python` is this interpreter, which has `tether`):
so the real engine really reports to a real control plane. An image may be given a
`Behaviour` instead, to script what real clusters do (out-of-memory kills, pull failures).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Behaviour:
    """A scripted image: `argv` replaces the container's command; `oom` reports OOMKilled/137;
    `pull_error` makes pulling (or starting, in Kubernetes) the image fail."""

    argv: Sequence[str] | None = None
    oom: bool = False
    pull_error: bool = False


class ContainerProcess:
    """A started "container": its output kept for any number of log followers."""

    def __init__(self, argv: Sequence[str], env: Mapping[str, str], cwd: str | None, *, oom: bool = False) -> None:
        argv = list(argv)
        if argv and argv[0] == "python":
            argv[0] = sys.executable
        self._oom = oom
        self.argv = argv
        self.env = dict(env)
        self._output = bytearray()
        self._changed = threading.Condition()
        self._ended = False
        self.process = subprocess.Popen(
            argv,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
            cwd=cwd or None,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self._output += line
                self._changed.notify_all()
        self.process.wait()
        with self._changed:
            self._ended = True
            self._changed.notify_all()

    @property
    def running(self) -> bool:
        with self._changed:
            return not self._ended

    def follow(self) -> Iterator[bytes]:
        """Output chunks from the start until the process ended and everything was read."""
        offset = 0
        while True:
            with self._changed:
                while offset == len(self._output) and not self._ended:
                    self._changed.wait(1.0)
                chunk, ended = bytes(self._output[offset:]), self._ended
            offset += len(chunk)
            if chunk:
                yield chunk
            elif ended:
                return

    def output(self) -> bytes:
        with self._changed:
            return bytes(self._output)

    def wait(self, timeout: float | None = None) -> int:
        """The exit status as a container runtime reports it: 128 + N after signal N."""
        code = self.process.wait(timeout)
        with self._changed:
            while not self._ended:
                self._changed.wait(1.0)
        if self._oom:
            return 137
        return 128 - code if code < 0 else code

    @property
    def oom_killed(self) -> bool:
        return self._oom

    def signal(self, signum: int) -> bool:
        if self.process.poll() is not None:
            return False
        try:
            os.killpg(self.process.pid, signum)
        except ProcessLookupError:
            return False
        return True

    def stop(self) -> None:
        self.signal(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(10)


def oom_argv() -> list[str]:
    """A command that prints a line then dies the way the kernel's OOM killer leaves it."""
    return [sys.executable, "-c", "import os, signal; print('allocating', flush=True); os.kill(os.getpid(), 9)"]


class JsonHandler(BaseHTTPRequestHandler):
    """Small helpers shared by the fake API servers' request handlers."""

    protocol_version = "HTTP/1.1"
    server_version = "fake"

    def log_message(self, format: str, *args: Any) -> None:
        self.server.requests.append(f"{self.command} {self.path}")  # type: ignore[attr-defined]

    @property
    def route(self) -> tuple[str, dict[str, str]]:
        parts = urlsplit(self.path)
        return parts.path, {key: values[-1] for key, values in parse_qs(parts.query).items()}

    def body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        return json.loads(raw) if raw else {}

    def send_json(self, status: int, body: Any) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def send_empty(self, status: int = 204) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def stream(self, content_type: str, chunks: Iterator[bytes]) -> None:
        """A response without a length, ended by closing the connection (as both APIs may do)."""
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        try:
            for chunk in chunks:
                self.wfile.write(chunk)
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass


@dataclass
class FakeServer:
    """A fake API server on a free loopback port, in a thread."""

    httpd: ThreadingHTTPServer
    requests: list[str] = field(default_factory=list)

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    def serve(self) -> None:
        self.httpd.requests = self.requests  # type: ignore[attr-defined]
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
