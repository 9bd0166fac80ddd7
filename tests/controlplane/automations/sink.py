"""A local HTTP server standing in for Slack and webhook receivers: records every request."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Sink:
    url: str
    received: list[Received] = field(default_factory=list)
    # path → (status, headers) to answer with; default 200
    answers: dict[str, tuple[int, dict[str, str]]] = field(default_factory=dict)
    hold: threading.Event | None = None

    def wait_for(self, count: int = 1, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.received) >= count:
                return list(self.received)
            time.sleep(0.02)
        raise AssertionError(f"the sink got {len(self.received)} request(s), not {count}, within {timeout}s")


def _handler(sink: Sink) -> Callable[..., BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            sink.received.append(
                Received(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.time())
            )
            if sink.hold is not None:
                sink.hold.wait(30)
            status, headers = sink.answers.get(self.path, (200, {}))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


@contextmanager
def http_sink(host: str = "127.0.0.1") -> Iterator[Sink]:
    sink = Sink(url="")
    server = ThreadingHTTPServer((host, 0), _handler(sink))
    sink.url = f"http://{host}:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield sink
    finally:
        if sink.hold is not None:
            sink.hold.set()
        server.shutdown()
        server.server_close()
