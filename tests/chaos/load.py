"""Steady API traffic during a fault: what each request answered, and which runs it created."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx

from tests.e2e.agent_support import Server


def idle_deployment(server: Server, pool: str) -> str:
    """A deployment in a pool nobody serves: the load's runs only wait, never run."""
    server.post("work-pools/", {"name": pool})
    body = {"flow_name": "chatty", "name": f"load-{pool}", "entrypoint": "flows.py:chatty", "work_pool_name": pool}
    return str(server.post("deployments/", body)["id"])


@dataclass
class Answer:
    at: float
    kind: str  # "read" or "create"
    status: int  # 0: no answer at all (connection refused, reset, timeout)
    key: str = ""


@dataclass
class Load:
    """Reads the run list and creates runs (each with its own idempotency key) until stopped.

    A create that got no definite answer is sent again with the same key until it gets one,
    as a careful client does; the server must still end up with one run per key.
    """

    server: Server
    deployment_id: str
    interval: float = 0.1
    answers: list[Answer] = field(default_factory=list)
    run_ids: dict[str, str] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> Load:
        self._thread = threading.Thread(target=self._loop, name="chaos-load", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(120)
        assert not self._thread.is_alive(), "the load thread is stuck"

    def _send(self, client: httpx.Client, kind: str, key: str = "") -> httpx.Response | None:
        started = time.monotonic()
        try:
            if kind == "read":
                response = client.get("flow-runs/", params={"page_size": 5})
            else:
                body = {"deployment_id": self.deployment_id, "idempotency_key": key, "parameters": {}}
                response = client.post("flow-runs/", json=body)
        except httpx.TransportError:
            self.answers.append(Answer(started, kind, 0, key))
            return None
        self.answers.append(Answer(started, kind, response.status_code, key))
        return response

    def _loop(self) -> None:
        headers = {"Authorization": f"Bearer {self.server.api_key}"}
        with httpx.Client(base_url=self.server.api_url + "/", headers=headers, timeout=30) as client:
            created = 0
            unanswered: str | None = None
            # A create still without an answer is settled before stopping: its key may hold a run.
            while not self._stop.is_set() or unanswered is not None:
                self._send(client, "read")
                key = unanswered or f"chaos-load-{created}"
                response = self._send(client, "create", key)
                if response is not None and response.status_code in (200, 201):
                    self.run_ids[key] = response.json()["id"]
                    unanswered = None
                    created += 1
                else:
                    unanswered = key
                self._stop.wait(self.interval)

    def statuses(self, start: float = 0.0, end: float = float("inf")) -> Counter[int]:
        return Counter(a.status for a in self.answers if start <= a.at <= end)
