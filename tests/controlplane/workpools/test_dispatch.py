"""Hello, claim and heartbeat: the happy path, ordering, limits, pauses, leases and epochs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from controlplane.runs.models import FlowRun
from controlplane.runs.states import StateType
from controlplane.services.leases import reap
from controlplane.workpools.models import Agent, WorkQueue
from tests.controlplane.workpools.test_dispatch_support import (
    AGENTS,
    RUNNING,
    Fleet,
    claim,
    due_run,
    expire_lease,
    hello,
    make_fleet,
    set_state_url,
    state_of,
)
from tests.support.clients import bearer, session
from tests.support.runs import make_deployment
from tests.support.tenants import World


@pytest.fixture
def fleet(world: World) -> Fleet:
    return make_fleet(world)


def test_hello_answers_an_agent_id_and_the_fleet_timings(fleet: Fleet) -> None:
    response = fleet.worker.post(
        f"{AGENTS}/hello/",
        {"name": "a1", "pool": "main", "queues": ["default"], "capacity": 2, "version": "1.0"},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["timings"] == {
        "heartbeat_seconds": 15,
        "lease_seconds": 60,
        "long_poll_seconds": 25,
        "prefetch_seconds": 5,
    }
    agent = Agent.dangerously_unscoped.get(pk=body["agent_id"])
    assert (agent.name, agent.pool_id, agent.queues, agent.capacity) == ("a1", fleet.pool.pk, ["default"], 2)


def test_hello_again_with_the_same_name_and_pool_reuses_the_agent(fleet: Fleet) -> None:
    first = hello(fleet, "a1")
    assert hello(fleet, "a1", version="2.0") == first
    assert Agent.dangerously_unscoped.get(pk=first).version == "2.0"
    assert hello(fleet, "a2") != first


def test_hello_with_an_unknown_pool_or_queue_is_404(fleet: Fleet) -> None:
    url = f"{AGENTS}/hello/"
    assert fleet.worker.post(url, {"name": "a", "pool": "nope"}, format="json").status_code == 404
    assert fleet.worker.post(url, {"name": "a", "pool": "main", "queues": ["x"]}, format="json").status_code == 404
    assert Agent.dangerously_unscoped.count() == 0


def test_timings_come_from_settings(fleet: Fleet, settings: object) -> None:
    settings.TETHER_AGENT_HEARTBEAT_SECONDS = 3  # type: ignore[attr-defined]
    response = fleet.worker.post(f"{AGENTS}/hello/", {"name": "a", "pool": "main"}, format="json")
    assert response.json()["timings"]["heartbeat_seconds"] == 3


def test_claim_moves_due_runs_to_pending_with_lease_epoch_and_token(fleet: Fleet) -> None:
    run = due_run(fleet, parameters={"x": 1}, tags=["t"])
    later = due_run(fleet, due_in=3600)
    agent_id = hello(fleet)
    (claimed,) = claim(fleet, agent_id)
    flow_run = claimed["flow_run"]
    assert flow_run["id"] == str(run.pk)
    assert flow_run["epoch"] == 1
    assert flow_run["parameters"] == {"x": 1}
    assert flow_run["flow_name"] == "etl"
    assert flow_run["deployment"]["entrypoint"] == "flows/etl.py:etl"
    assert claimed["run_token"].startswith("tether_run_")
    run.refresh_from_db()
    assert (run.state_type, str(run.lease_owner), run.epoch) == (StateType.PENDING, agent_id, 1)
    assert run.lease_expires_at is not None
    assert run.lease_expires_at > timezone.now() + timedelta(seconds=50)
    assert list(run.states.values_list("type", flat=True)) == ["SCHEDULED", "PENDING"]
    assert state_of(later)[0] == StateType.SCHEDULED
    assert claim(fleet, agent_id) == []


def test_claim_offers_runs_due_within_the_prefetch_window(fleet: Fleet) -> None:
    soon = due_run(fleet, due_in=3)
    due_run(fleet, due_in=30)
    assert [c["flow_run"]["id"] for c in claim(fleet, hello(fleet))] == [str(soon.pk)]


def test_claim_order_is_queue_priority_then_scheduled_time(fleet: Fleet) -> None:
    urgent = WorkQueue.dangerously_unscoped.create(
        workspace=fleet.world.prod, pool=fleet.pool, name="urgent", priority=1
    )
    WorkQueue.dangerously_unscoped.filter(pk=fleet.default.pk).update(priority=5)
    old_default = due_run(fleet, due_in=-30)
    new_default = due_run(fleet, due_in=-10)
    new_urgent = due_run(fleet, queue=urgent, due_in=-5)
    old_urgent = due_run(fleet, queue=urgent, due_in=-20)
    agent_id = hello(fleet)
    order = [c["flow_run"]["id"] for c in claim(fleet, agent_id, capacity=1)]
    order += [c["flow_run"]["id"] for c in claim(fleet, agent_id, capacity=3)]
    assert order == [str(r.pk) for r in (old_urgent, new_urgent, old_default, new_default)]


def test_claim_serves_only_the_agents_queues(fleet: Fleet) -> None:
    other = WorkQueue.dangerously_unscoped.create(workspace=fleet.world.prod, pool=fleet.pool, name="other")
    mine = due_run(fleet)
    due_run(fleet, queue=other)
    agent_id = hello(fleet, queues=["default"])
    assert [c["flow_run"]["id"] for c in claim(fleet, agent_id)] == [str(mine.pk)]


def test_claim_respects_capacity_and_pool_queue_and_deployment_limits(fleet: Fleet) -> None:
    agent_id = hello(fleet)
    for _ in range(6):
        due_run(fleet)
    assert len(claim(fleet, agent_id, capacity=2)) == 2
    fleet.pool.__class__.dangerously_unscoped.filter(pk=fleet.pool.pk).update(concurrency_limit=3)
    assert len(claim(fleet, agent_id)) == 1  # 2 active + 1 = pool limit 3
    fleet.pool.__class__.dangerously_unscoped.filter(pk=fleet.pool.pk).update(concurrency_limit=None)
    WorkQueue.dangerously_unscoped.filter(pk=fleet.default.pk).update(concurrency_limit=4)
    assert len(claim(fleet, agent_id)) == 1  # queue limit 4
    WorkQueue.dangerously_unscoped.filter(pk=fleet.default.pk).update(concurrency_limit=None)
    limited = make_deployment(
        fleet.world, name="limited", work_pool=fleet.pool, work_queue=fleet.default, concurrency_limit=1
    )
    due_run(fleet, deployment=limited)
    due_run(fleet, deployment=limited)
    claimed = claim(fleet, agent_id)
    assert sum(1 for c in claimed if c["flow_run"]["deployment"]["name"] == "limited") == 1
    assert len(claimed) == 3  # the two left of the first deployment and one of the limited one
    remaining = FlowRun.dangerously_unscoped.filter(deployment=limited, state_type=StateType.SCHEDULED).get()
    assert remaining.state_name == "Scheduled"  # skipped, not bounced to AwaitingConcurrencySlot


@pytest.mark.parametrize("paused", ["pool", "queue", "deployment"])
def test_paused_pool_queue_or_deployment_hands_out_nothing(fleet: Fleet, paused: str) -> None:
    run = due_run(fleet)
    target = {"pool": fleet.pool, "queue": fleet.default, "deployment": fleet.deployment}[paused]
    type(target).dangerously_unscoped.filter(pk=target.pk).update(paused=True)
    agent_id = hello(fleet)
    assert claim(fleet, agent_id) == []
    assert state_of(run)[0] == StateType.SCHEDULED
    type(target).dangerously_unscoped.filter(pk=target.pk).update(paused=False)
    assert len(claim(fleet, agent_id)) == 1


def test_heartbeat_renews_held_leases_and_reports_lost_and_cancelling(fleet: Fleet) -> None:
    agent_id = hello(fleet)
    a, b, c = (due_run(fleet) for _ in range(3))
    claimed = {x["flow_run"]["id"]: x for x in claim(fleet, agent_id)}
    assert len(claimed) == 3
    FlowRun.dangerously_unscoped.filter(pk=a.pk).update(lease_expires_at=timezone.now() + timedelta(seconds=5))
    FlowRun.dangerously_unscoped.filter(pk=c.pk).update(state_type=StateType.CANCELLING)
    body = {"runs": [{"id": str(a.pk), "epoch": 1}, {"id": str(b.pk), "epoch": 0}, {"id": str(c.pk), "epoch": 1}]}
    response = fleet.worker.post(f"{AGENTS}/{agent_id}/heartbeat/", body, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {"renewed": [str(a.pk), str(c.pk)], "lost": [str(b.pk)], "cancel": [str(c.pk)]}
    a.refresh_from_db()
    assert a.lease_expires_at is not None
    assert a.lease_expires_at > timezone.now() + timedelta(seconds=50)


def test_another_agents_heartbeat_renews_nothing(fleet: Fleet) -> None:
    mine, other = hello(fleet, "mine"), hello(fleet, "other")
    run = due_run(fleet)
    claim(fleet, mine)
    body = {"runs": [{"id": str(run.pk), "epoch": 1}]}
    assert fleet.worker.post(f"{AGENTS}/{other}/heartbeat/", body, format="json").json()["lost"] == [str(run.pk)]


def test_agents_list_shows_online_and_offline(fleet: Fleet) -> None:
    online, offline = hello(fleet, "online"), hello(fleet, "offline")
    Agent.dangerously_unscoped.filter(pk=offline).update(last_seen_at=timezone.now() - timedelta(seconds=46))
    response = session(fleet.world.bob).get(f"{AGENTS}/")
    assert response.status_code == 200
    status = {row["id"]: (row["status"], row["pool_name"]) for row in response.json()["results"]}
    assert status == {online: ("online", "main"), offline: ("offline", "main")}


def test_viewers_cannot_claim_and_other_tenants_cannot_see_agents(fleet: Fleet) -> None:
    agent_id = hello(fleet)
    assert session(fleet.world.bob).post(f"{AGENTS}/{agent_id}/claim/", {}, format="json").status_code == 403
    assert session(fleet.world.charlie).get(f"{AGENTS}/").status_code == 404


def test_stale_epoch_after_a_reclaim_is_409_and_changes_nothing(fleet: Fleet) -> None:
    run = due_run(fleet)
    first = hello(fleet, "first")
    (old,) = claim(fleet, first)
    expire_lease(run)
    assert reap() == 1
    assert state_of(run) == (StateType.SCHEDULED, "Scheduled")
    (new,) = claim(fleet, hello(fleet, "second"))
    assert new["flow_run"]["epoch"] == 2
    history = list(run.states.values_list("id", flat=True))
    late_report = fleet.worker.post(set_state_url(run.pk), {**RUNNING, "epoch": 1}, format="json")
    assert late_report.status_code == 409
    assert late_report.json()["error"]["details"] == {"epoch": 1, "current_epoch": 2}
    assert list(run.states.values_list("id", flat=True)) == history
    # The old holder's token died with its claim; the new one works.
    assert (
        bearer(old["run_token"]).post(set_state_url(run.pk), {**RUNNING, "epoch": 1}, format="json").status_code == 401
    )
    ok = bearer(new["run_token"]).post(set_state_url(run.pk), {**RUNNING, "epoch": 2}, format="json")
    assert ok.status_code == 200, ok.content
    assert state_of(run)[0] == StateType.RUNNING
