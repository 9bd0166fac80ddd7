"""Issue 9 acceptance 2, 3 and 4 with real processes: the production server, a Celery worker
(with beat: the proactive deadlines are its periodic service) and a real agent that runs the
deployments the automations start.

2. Proactive: "expect `file.arrived` for `s3://bucket/sales.csv` within 10 s after
   `tether.flow-run.Completed` of deployment A": when it does not come, deployment B runs;
   when it comes, B does not run.
3. An inbound webhook's template turns a JSON POST into an event that starts a deployment run
   with a parameter taken from the body.
4. Compound (all of two events within 30 s) and sequence triggers fire exactly once.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from tests.e2e.agent_support import FINAL, AgentProcess, Server, agent, control_plane, write_flows
from tests.e2e.test_automations_e2e import celery_worker

pytestmark = pytest.mark.e2e

# A Redis database and a PostgreSQL database of their own: other stacks on this machine use theirs.
REDIS_URL = os.environ.get("TETHER_AUTOMATIONS_FLOWS_TEST_REDIS_URL", "redis://127.0.0.1:6379/11")
DATABASE_URL = os.environ.get(
    "TETHER_AUTOMATIONS_FLOWS_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tether_automations_flows_e2e"
)
POOL = "automations-e2e"
WITHIN_SECONDS = 10
SALES_FILE = "s3://bucket/sales.csv"


@dataclass
class Stack:
    server: Server
    agent: AgentProcess
    flows: Path
    out: Path

    def deployment(self, name: str, entry: str, *, in_pool: bool = True) -> str:
        body: dict[str, Any] = {
            "flow_name": entry,
            "name": name,
            "entrypoint": f"flows.py:{entry}",
            "source": {"type": "path", "path": str(self.flows)},
        }
        if in_pool:
            body["work_pool_name"] = POOL
        return str(self.server.post("deployments/", body)["id"])

    def automation(self, name: str, trigger: dict[str, Any], actions: list[dict[str, Any]]) -> str:
        return str(self.server.post("automations/", {"name": name, "trigger": trigger, "actions": actions})["id"])

    def send(self, name: str, resource_id: str = "e2e") -> None:
        event = {"event": name, "resource": {"tether.resource.id": resource_id}}
        answer = self.server.http.post("events/", json=[event])
        assert answer.status_code == 202, answer.text

    def runs_of(self, deployment_id: str) -> list[dict[str, Any]]:
        runs: list[dict[str, Any]] = self.server.get("flow-runs/", deployment_id=deployment_id)["results"]
        return runs

    def firings_of(self, automation_id: str) -> list[dict[str, Any]]:
        firings = self.server.get("automation-firings/", page_size=100)["results"]
        return [firing for firing in firings if firing["automation_id"] == automation_id]


def _wait(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout}s")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("automations-flows")
    # Ticks a stopped worker left in the broker would keep a new worker busy discarding them.
    redis.Redis.from_url(REDIS_URL).flushdb()
    flows, out = write_flows(tmp / "flows"), tmp / "out"
    out.mkdir()
    with control_plane(tmp, DATABASE_URL, REDIS_URL=REDIS_URL) as server:
        server.post("work-pools/", {"name": POOL})
        with celery_worker(server, tmp, "flows"), agent(server, POOL, tmp) as running:
            yield Stack(server, running, flows, out)


def _occurred(stack: Stack, name: str, resource_id: str) -> datetime:
    events = stack.server.get("events/", event=name, resource_id=resource_id)["results"]
    assert len(events) == 1, events
    return datetime.fromisoformat(events[0]["occurred"])


def _complete_a_run_of(stack: Stack, deployment_id: str) -> str:
    """Start a run of the deployment and let the agent finish it."""
    run_id = stack.server.create_run(deployment_id)
    finished = stack.server.wait_for(run_id, FINAL, timeout=60)
    assert finished["state_type"] == "COMPLETED", finished
    return run_id


def _completed_at(stack: Stack, run_id: str) -> datetime:
    return _occurred(stack, "tether.flow-run.Completed", f"tether.flow-run.{run_id}")


def _expect_the_sales_file_after(stack: Stack, a: str, b: str, key: str) -> None:
    after_a = {"event": "tether.flow-run.Completed", "match_related": {"tether.resource.id": f"tether.deployment.{a}"}}
    stack.automation(
        f"sales file after {key}",
        {
            "type": "event",
            "posture": "proactive",
            "after": [after_a],
            "expect": [{"event": "file.arrived", "match": {"tether.resource.id": SALES_FILE}}],
            "within": WITHIN_SECONDS,
        },
        [{"type": "run-deployment", "deployment_id": b, "parameters": {"out": str(stack.out), "key": key}}],
    )


def test_proactive_missing_file_runs_deployment_b_and_an_arrived_file_does_not(stack: Stack) -> None:
    # Two pairs watched the same way, so that both cases share one wait: (A1, B1) gets its file
    # in time; (A2, B2) opens its window after the file came, and gets none.
    a1, b1 = stack.deployment("a1", "trivial"), stack.deployment("b1", "marker")
    a2, b2 = stack.deployment("a2", "trivial"), stack.deployment("b2", "marker")
    _expect_the_sales_file_after(stack, a1, b1, "b1-ran")
    _expect_the_sales_file_after(stack, a2, b2, "b2-ran")

    a1_run = _complete_a_run_of(stack, a1)
    stack.send("file.arrived", SALES_FILE)  # at once: well within A1's window
    a2_completed = _completed_at(stack, _complete_a_run_of(stack, a2))
    a1_completed = _completed_at(stack, a1_run)

    # No file after A2: B2 runs (started by the automation, run by the agent), once.
    (run,) = _wait(lambda: stack.runs_of(b2), WITHIN_SECONDS + 30, "a run of B2")
    assert datetime.fromisoformat(run["created_at"]).timestamp() >= a2_completed.timestamp() + WITHIN_SECONDS - 0.5
    assert stack.server.wait_for(run["id"], FINAL, timeout=60)["state_type"] == "COMPLETED"
    assert (stack.out / "b2-ran").exists()
    # The file came after A1: B1 does not run, even well after its window closed.
    _wait(lambda: time.time() > a1_completed.timestamp() + WITHIN_SECONDS + 3, 30, "A1's window long closed")
    time.sleep(1)  # more passes of the periodic deadline service: nothing more fires
    assert stack.runs_of(b1) == []
    assert len(stack.runs_of(b2)) == 1
    assert not (stack.out / "b1-ran").exists()


def test_an_inbound_webhook_starts_a_run_with_a_parameter_from_the_body(stack: Stack) -> None:
    target = stack.deployment("orders", "marker")
    hook = stack.server.post(
        "inbound-webhooks/",
        {
            "name": "shop",
            "template": {
                "event": "order.created",
                "resource": {"tether.resource.id": "shop.order.{{ body.order.id }}"},
                "payload": {"order_id": "{{ body.order.id }}", "customer": "{{ body.customer }}"},
            },
        },
    )
    stack.automation(
        "orders run the order flow",
        {"expect": ["order.created"]},
        [
            {
                "type": "run-deployment",
                "deployment_id": target,
                "parameters": {"out": str(stack.out), "key": "order-{{ event.payload.order_id }}"},
            }
        ],
    )
    url = f"{stack.server.url}{hook['url_path']}"
    body = {"order": {"id": 4711}, "customer": "ACME Corp"}
    refused = httpx.post(url, json=body, headers={"X-Tether-Secret": "not-the-secret"}, timeout=30)
    assert refused.status_code == 404
    accepted = httpx.post(url, json=body, headers={"X-Tether-Secret": hook["secret"]}, timeout=30)
    assert accepted.status_code == 202, accepted.text

    (run,) = _wait(lambda: stack.runs_of(target), 30, "a run of the order flow")
    assert run["parameters"] == {"out": str(stack.out), "key": "order-4711"}
    assert stack.server.wait_for(run["id"], FINAL, timeout=60)["state_type"] == "COMPLETED"
    assert (stack.out / "order-4711").exists()  # the agent ran the flow with the body's value
    event = stack.server.get("events/", event="order.created")["results"][0]
    assert event["resource"]["tether.resource.id"] == "shop.order.4711"
    assert event["payload"] == {"order_id": 4711, "customer": "ACME Corp"}


def test_compound_and_sequence_triggers_fire_exactly_once(stack: Stack) -> None:
    compound_target = stack.deployment("after-both", "trivial", in_pool=False)
    sequence_target = stack.deployment("after-sequence", "trivial", in_pool=False)
    compound = stack.automation(
        "both checks",
        {
            "type": "compound",
            "require": "all",
            "within": 30,
            "triggers": [{"expect": ["check.schema.passed"]}, {"expect": ["check.rows.passed"]}],
        },
        [{"type": "run-deployment", "deployment_id": compound_target}],
    )
    sequence = stack.automation(
        "extract then load",
        {"type": "sequence", "within": 30, "triggers": [{"expect": ["etl.extracted"]}, {"expect": ["etl.loaded"]}]},
        [{"type": "run-deployment", "deployment_id": sequence_target}],
    )

    stack.send("etl.loaded")  # out of order: the sequence has not started
    stack.send("check.schema.passed")
    time.sleep(1.5)  # the worker evaluates these in well under that: neither trigger is complete
    assert stack.firings_of(compound) == []
    assert stack.firings_of(sequence) == []

    stack.send("etl.extracted")
    stack.send("check.rows.passed")
    stack.send("check.rows.passed")  # a repeat completes nothing new
    stack.send("etl.loaded")
    stack.send("etl.loaded")
    _wait(lambda: stack.firings_of(compound) and stack.firings_of(sequence), 30, "both firings")
    _wait(lambda: stack.runs_of(compound_target) and stack.runs_of(sequence_target), 30, "both runs")
    time.sleep(1.5)  # more evaluation and action passes: nothing more appears
    assert len(stack.firings_of(compound)) == 1
    assert len(stack.firings_of(sequence)) == 1
    assert len(stack.runs_of(compound_target)) == 1
    assert len(stack.runs_of(sequence_target)) == 1
