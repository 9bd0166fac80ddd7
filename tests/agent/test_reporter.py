"""The background reporter and the API client against a local stub (httpx.MockTransport)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tether import flow, task
from tether._api import Client
from tether._reporter import LOG_MESSAGE_MAX_BYTES, Reporter
from tether.exceptions import APIError, ReportNotDelivered, TransitionRefused

Handler = Callable[[httpx.Request], httpx.Response]


class Stub:
    """Records requests; answers with `handler`."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.requests.append(request)
        return self.handler(request)

    def bodies(self, path_end: str) -> list[Any]:
        return [json.loads(r.content) for r in self.requests if r.url.path.endswith(path_end)]


def client_for(stub: Stub, sleeps: list[float] | None = None) -> Client:
    record = sleeps.append if sleeps is not None else (lambda _: None)
    return Client(
        "http://tether.test/api/v1/orgs/acme/workspaces/prod",
        "tether_sa_test",
        transport=httpx.MockTransport(stub),
        sleep=record,
    )


def ok(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith("/logs/"):
        return httpx.Response(201, json={"accepted": len(json.loads(request.content)), "duplicates": 0})
    return httpx.Response(200, json=[])


def task_entry(i: int) -> dict[str, Any]:
    return {"id": f"00000000-0000-0000-0000-{i:012d}", "state": {"type": "RUNNING"}}


def test_batches_by_size_and_keeps_order() -> None:
    stub = Stub(ok)
    reporter = Reporter(client_for(stub), batch_size=200, interval=60)
    for i in range(200):
        reporter.report_task_run(task_entry(i))
    for _ in range(250):  # the size alone triggers a delivery: nobody flushes, the interval is long
        if stub.requests:
            break
        threading.Event().wait(0.02)
    assert len(stub.bodies("/task-runs/batch/")) == 1
    for i in range(200, 2500):
        reporter.report_task_run(task_entry(i))
    reporter.flush(5)
    batches = stub.bodies("/task-runs/batch/")
    assert all(len(batch["task_runs"]) <= 1000 for batch in batches)  # the server's limit per batch
    assert len(batches) >= 4
    sent = [entry["id"] for batch in batches for entry in batch["task_runs"]]
    assert sent == [task_entry(i)["id"] for i in range(2500)]
    assert all(r.headers["Authorization"] == "Bearer tether_sa_test" for r in stub.requests)


def test_flushes_on_time_without_being_asked() -> None:
    stub = Stub(ok)
    reporter = Reporter(client_for(stub), batch_size=200, interval=0.05)
    reporter.report_log(log_line(0))
    deadline = threading.Event()
    for _ in range(100):
        if stub.requests:
            break
        deadline.wait(0.02)
    assert len(stub.bodies("/logs/")) == 1
    reporter.close(1)


def log_line(seq: int, message: str = "hello") -> dict[str, Any]:
    return {
        "flow_run_id": "00000000-0000-0000-0000-000000000001",
        "task_run_id": None,
        "source": "sdk-test",
        "seq": seq,
        "level": 20,
        "name": "tether.flow_runs",
        "message": message,
        "timestamp": "2026-01-01T00:00:00+00:00",
    }


def test_long_messages_are_truncated_to_the_server_limit() -> None:
    stub = Stub(ok)
    reporter = Reporter(client_for(stub))
    reporter.report_log(log_line(0, "é" * LOG_MESSAGE_MAX_BYTES))
    reporter.flush(5)
    (batch,) = stub.bodies("/logs/")
    assert len(batch[0]["message"].encode()) <= LOG_MESSAGE_MAX_BYTES
    assert batch[0]["message"].endswith("[truncated]")


def test_retries_a_503_and_delivers_once_it_recovers() -> None:
    answers = iter([httpx.Response(503), httpx.Response(503, headers={"Retry-After": "0"})])

    def flaky(request: httpx.Request) -> httpx.Response:
        return next(answers, None) or ok(request)

    stub = Stub(flaky)
    reporter = Reporter(client_for(stub))
    for i in range(3):
        reporter.report_task_run(task_entry(i))
    reporter.flush(5)
    batches = stub.bodies("/task-runs/batch/")
    assert len(batches) == 3  # the same batch, re-sent until it was taken
    assert batches[0] == batches[2]


def test_honours_retry_after_on_429() -> None:
    answers = iter([httpx.Response(429, headers={"Retry-After": "2"})])
    stub = Stub(lambda request: next(answers, None) or ok(request))
    sleeps: list[float] = []
    client = client_for(stub, sleeps)
    client.request("POST", "logs/", json=[], retry_for=10)
    assert len(stub.requests) == 2
    assert sleeps[0] == pytest.approx(2, abs=0.01)


def test_never_retries_a_409_proposal() -> None:
    refused = {
        "error": {
            "code": "transition_refused",
            "message": "The run is COMPLETED, a final state.",
            "details": {"status": "REJECT", "state": {"type": "COMPLETED", "name": "Completed"}},
        }
    }
    stub = Stub(lambda request: httpx.Response(409, json=refused))
    client = client_for(stub)
    with pytest.raises(TransitionRefused) as caught:
        client.set_flow_run_state("run-id", {"type": "RUNNING"})
    assert caught.value.status == "REJECT"
    assert caught.value.state["type"] == "COMPLETED"
    assert len(stub.requests) == 1


def test_wait_answers_are_followed_by_sleeping() -> None:
    answers = iter(
        [
            httpx.Response(200, json={"status": "WAIT", "state": {"type": "PENDING"}, "delay_seconds": 1.5}),
            httpx.Response(200, json={"status": "ACCEPT", "state": {"type": "RUNNING"}, "delay_seconds": None}),
        ]
    )
    stub = Stub(lambda request: next(answers))
    sleeps: list[float] = []
    result = client_for(stub, sleeps).set_flow_run_state("run-id", {"type": "RUNNING"}, epoch=3)
    assert result["status"] == "ACCEPT"
    assert sleeps == [1.5]
    assert [json.loads(r.content)["epoch"] for r in stub.requests] == [3, 3]


def test_a_4xx_batch_is_not_retried_and_fails_the_flush_loudly() -> None:
    stub = Stub(
        lambda request: httpx.Response(404, json={"error": {"code": "not_found", "message": "Flow run not found."}})
    )
    reporter = Reporter(client_for(stub))
    reporter.report_task_run(task_entry(1))
    with pytest.raises(ReportNotDelivered, match="Flow run not found"):
        reporter.flush(5)
    assert len(stub.requests) == 1


def test_an_unreachable_server_fails_the_final_flush() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    stub = Stub(down)
    reporter = Reporter(client_for(stub))
    reporter.report_task_run(task_entry(1))
    with pytest.raises(ReportNotDelivered):
        reporter.flush(0.5)
    assert len(stub.requests) > 1  # it tried more than once


def test_a_flow_whose_reports_cannot_be_delivered_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    def server(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/flow-runs/"):
            return httpx.Response(201, json={"id": "11111111-1111-1111-1111-111111111111", "name": "loud-run"})
        if path.endswith("/set-state/"):
            state = json.loads(request.content)["state"]
            return httpx.Response(200, json={"status": "ACCEPT", "state": state, "reason": "", "delay_seconds": None})
        return httpx.Response(503)

    stub = Stub(server)
    monkeypatch.setattr(Client, "from_env", classmethod(lambda cls: client_for(stub)))
    monkeypatch.setenv("TETHER_FINAL_FLUSH_TIMEOUT", "0.5")

    @task
    def step(i: int) -> int:
        return i

    @flow
    def reported_flow() -> int:
        return sum(step(i) for i in range(3))

    with pytest.raises(ReportNotDelivered):
        reported_flow()
    proposals = [body["state"]["type"] for body in stub.bodies("/set-state/")]
    assert proposals == ["FAILED"]  # the server is told, too, when it can be reached


def test_api_errors_name_the_status_without_leaking_the_key() -> None:
    stub = Stub(lambda request: httpx.Response(403, json={"error": {"code": "permission_denied", "message": "No."}}))
    with pytest.raises(APIError) as caught:
        client_for(stub).get("flow-runs/")
    assert caught.value.status_code == 403
    assert "tether_sa_test" not in str(caught.value)


def _lost_answer_stub(*, landed: bool) -> Stub:
    """The first task-run batch reaches the server (if `landed`) but its answer is lost."""
    booked: dict[str, str] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/task-runs/batch/"):
            entries = json.loads(request.content)["task_runs"]
            first_time = not any(r.url.path.endswith("/task-runs/batch/") for r in stub.requests[:-1])
            if landed or not first_time:
                for entry in entries:
                    booked[entry["id"]] = entry["state"]["timestamp"]
            if first_time:
                raise httpx.ReadError("connection reset by peer")
            return httpx.Response(200, json=[])
        if "/task-runs/" in path:
            task_run_id = path.rstrip("/").rsplit("/", 1)[1]
            if task_run_id not in booked:
                return httpx.Response(404, json={"error": {"code": "not_found", "message": "Task run not found."}})
            return httpx.Response(200, json={"id": task_run_id, "state_timestamp": booked[task_run_id]})
        return ok(request)

    stub = Stub(handler)
    return stub


def timed_entry(i: int, state: str = "RUNNING") -> dict[str, Any]:
    return {**task_entry(i), "state": {"type": state, "timestamp": f"2026-01-02T03:04:{i:02d}.000001+00:00"}}


def test_a_batch_whose_answer_was_lost_is_not_sent_again_if_it_landed() -> None:
    stub = _lost_answer_stub(landed=True)
    reporter = Reporter(client_for(stub))
    for i in range(3):
        reporter.report_task_run(timed_entry(i))
    reporter.flush(5)
    assert len(stub.bodies("/task-runs/batch/")) == 1  # checked, found, not re-sent
    assert any(r.method == "GET" for r in stub.requests)


def test_a_batch_whose_answer_was_lost_is_sent_again_if_it_did_not_land() -> None:
    stub = _lost_answer_stub(landed=False)
    reporter = Reporter(client_for(stub))
    for i in range(3):
        reporter.report_task_run(timed_entry(i))
    reporter.flush(5)
    batches = stub.bodies("/task-runs/batch/")
    assert len(batches) == 2
    assert batches[0] == batches[1]
