"""The agent and the task worker honour `retry_after_seconds`: a long-poll the server refused is not retried at once.

A server holds only so many waiting claims per process (controlplane/core/long_polls.py) and
answers the others at once. A small HTTP server started here plays the control plane: it
refuses the first long-polls, then answers 401, which stops the loop (a fatal answer).
"""

from __future__ import annotations

import itertools
import json
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tether import task
from tether.agent.config import AgentConfig
from tether.agent.worker import Agent
from tether.task_worker.worker import TaskWorker

WORKSPACE = "/api/v1/orgs/acme/workspaces/prod"
RETRY_AFTER = 1.0
REFUSED_CLAIMS = 2
FATAL = (401, {"error": {"code": "not_authenticated", "message": "The key was revoked.", "details": {}}})


@dataclass
class FakeControlPlane:
    """Hello answers an agent id; claims get the scripted answers in order and are recorded."""

    claim_answers: list[tuple[int, dict[str, Any]]]
    claims: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    url: str = ""

    def answer(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if path.endswith("/agents/hello/"):
            timings = {"heartbeat_seconds": 60, "lease_seconds": 120, "long_poll_seconds": 25, "prefetch_seconds": 5}
            return 200, {"agent_id": "agent-1", "timings": timings}
        if path.endswith("/claim/"):
            self.claims.append((time.monotonic(), body))
            return self.claim_answers.pop(0) if self.claim_answers else FATAL
        return 404, {"error": {"code": "not_found", "message": path, "details": {}}}


@contextmanager
def serving(fake: FakeControlPlane) -> Iterator[FakeControlPlane]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            status, answer = fake.answer(self.path, body)
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}{WORKSPACE}"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(autouse=True)
def _keep_signal_handlers() -> Iterator[None]:
    # Both loops install SIGTERM/SIGINT handlers for their drain; pytest keeps its own.
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def gaps(fake: FakeControlPlane) -> list[float]:
    times = [at for at, _ in fake.claims]
    return [later - earlier for earlier, later in itertools.pairwise(times)]


@task
def noop() -> None:
    return None


def test_the_agent_waits_retry_after_seconds_before_claiming_again(tmp_path: Path) -> None:
    refused = (200, {"runs": [], "retry_after_seconds": RETRY_AFTER})
    with serving(FakeControlPlane(claim_answers=[refused] * REFUSED_CLAIMS)) as fake:
        config = AgentConfig(
            api_url=fake.url, api_key="tether_sa_test", pool="main", work_dir=tmp_path, websocket=False
        )
        status = Agent(config).run()

    assert status == 1  # the scripted 401 ended it
    assert len(fake.claims) == REFUSED_CLAIMS + 1
    assert all(body["wait_seconds"] > 0 for _, body in fake.claims)  # without a WebSocket: long-polls
    assert all(RETRY_AFTER - 0.05 <= gap < RETRY_AFTER + 2 for gap in gaps(fake)), gaps(fake)


def test_the_task_worker_waits_retry_after_seconds_before_claiming_again() -> None:
    refused: tuple[int, dict[str, Any]] = (
        200,
        {
            "task_runs": [],
            "next_due_seconds": None,
            "timings": {"heartbeat_seconds": 60, "lease_seconds": 120},
            "retry_after_seconds": RETRY_AFTER,
        },
    )
    with serving(FakeControlPlane(claim_answers=[refused] * REFUSED_CLAIMS)) as fake:
        # No key: no wake channel, so the worker long-polls (and no channel failure wakes it early).
        worker = TaskWorker({noop.task_key: noop}, api_url=fake.url, api_key=None, limit=1)
        status = worker.run()

    assert status == 1  # the scripted 401 ended it
    assert len(fake.claims) == REFUSED_CLAIMS + 1
    assert all(body["wait_seconds"] > 0 for _, body in fake.claims)
    assert all(RETRY_AFTER - 0.05 <= gap < RETRY_AFTER + 2 for gap in gaps(fake)), gaps(fake)
