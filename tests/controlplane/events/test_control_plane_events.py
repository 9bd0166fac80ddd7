"""Control-plane events for deployment, work pool, work queue and agent changes.

Changes go through the public API (as users make them); the events are read back through
the events API, so names, resources and related resources are checked as automations and
the UI see them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from controlplane.automations.evaluation import events_evaluate_all
from controlplane.automations.execution import action_runs_execute_due
from controlplane.events.models import Event
from controlplane.workpools.dispatch.presence import agents_announce_offline
from controlplane.workpools.models import Agent, WorkPool
from controlplane.workpools.services import work_pool_set_paused
from tests.controlplane.automations.sink import Sink, http_sink
from tests.controlplane.workpools.test_dispatch_support import AGENTS, claim, hello, make_fleet
from tests.support.clients import bearer, session
from tests.support.runs import PROD, in_prod
from tests.support.tenants import World, actor_for, service_account_key

POOLS = f"{PROD}/work-pools/"
DEPLOYMENTS = f"{PROD}/deployments/"
EVENTS = f"{PROD}/events/"
RESOURCE_ID = "tether.resource.id"


@pytest.fixture
def developer(world: World) -> Any:
    _, secret = service_account_key(world.alice, world.prod, "developer", name="dev")
    return bearer(secret)


@pytest.fixture
def sink(settings: Any) -> Iterator[Sink]:
    settings.TETHER_OUTBOUND_ALLOW = ["127.0.0.1"]
    with http_sink() as running:
        yield running


def _events(client: Any, prefix: str) -> list[dict[str, Any]]:
    """Events whose name starts with `prefix`, oldest first."""
    response = client.get(EVENTS, {"event": f"{prefix}*", "page_size": 200})
    assert response.status_code == 200, response.content
    return list(reversed(response.json()["results"]))


def _names(events: list[dict[str, Any]]) -> list[str]:
    return [event["event"] for event in events]


def _related_ids(event: dict[str, Any]) -> set[str]:
    return {item[RESOURCE_ID] for item in event["related"]}


def test_work_pool_changes_are_events(world: World) -> None:
    alice = session(world.alice)
    pool = alice.post(POOLS, {"name": "main"}, format="json").json()
    url = f"{POOLS}{pool['id']}/"
    assert alice.patch(url, {"description": "nightly jobs"}, format="json").status_code == 200
    assert alice.patch(url, {"description": "nightly jobs"}, format="json").status_code == 200  # no change
    assert alice.post(f"{url}pause/").status_code == 200
    assert alice.post(f"{url}pause/").status_code == 200  # already paused: nothing happens
    assert alice.post(f"{url}resume/").status_code == 200
    assert alice.delete(url).status_code == 204

    events = _events(alice, "tether.work-pool.")
    assert _names(events) == [
        "tether.work-pool.created",
        "tether.work-pool.updated",
        "tether.work-pool.paused",
        "tether.work-pool.resumed",
        "tether.work-pool.deleted",
    ]
    for event in events:
        assert event["resource"][RESOURCE_ID] == f"tether.work-pool.{pool['id']}"
        assert event["resource"]["tether.resource.name"] == "main"
    assert events[1]["payload"] == {"changed": ["description"]}


def test_work_queue_changes_are_events_related_to_their_pool(world: World) -> None:
    alice = session(world.alice)
    pool = alice.post(POOLS, {"name": "main"}, format="json").json()
    queues = f"{POOLS}{pool['id']}/queues/"
    queue = alice.post(queues, {"name": "urgent", "priority": 2}, format="json").json()
    url = f"{queues}{queue['id']}/"
    assert alice.patch(url, {"priority": 5, "paused": True}, format="json").status_code == 200
    assert alice.post(f"{url}resume/").status_code == 200
    assert alice.delete(url).status_code == 204

    events = [e for e in _events(alice, "tether.work-queue.") if e["resource"][RESOURCE_ID].endswith(queue["id"])]
    assert _names(events) == [
        "tether.work-queue.created",
        "tether.work-queue.updated",
        "tether.work-queue.paused",  # a paused flag set through an update is a pause all the same
        "tether.work-queue.resumed",
        "tether.work-queue.deleted",
    ]
    assert events[1]["payload"] == {"changed": ["paused", "priority"]}
    for event in events:
        assert event["resource"]["tether.resource.name"] == "urgent"
        assert _related_ids(event) == {f"tether.work-pool.{pool['id']}"}


def test_deployment_changes_are_events_related_to_flow_pool_and_queue(world: World) -> None:
    alice = session(world.alice)
    pool = alice.post(POOLS, {"name": "main"}, format="json").json()
    body = {"flow_name": "etl", "name": "nightly", "entrypoint": "flows/etl.py:etl", "work_pool_name": "main"}
    deployment = alice.post(DEPLOYMENTS, body, format="json").json()
    url = f"{DEPLOYMENTS}{deployment['id']}/"
    secret_default = {"token": "do-not-copy-me"}
    assert alice.patch(url, {"parameters": secret_default}, format="json").status_code == 200
    assert alice.post(f"{url}pause/").status_code == 200
    assert alice.post(f"{url}resume/").status_code == 200
    assert alice.delete(url).status_code == 204

    events = _events(alice, "tether.deployment.")
    assert _names(events) == [
        "tether.deployment.created",
        "tether.deployment.updated",
        "tether.deployment.paused",
        "tether.deployment.resumed",
        "tether.deployment.deleted",
    ]
    default_queue = alice.get(f"{POOLS}{pool['id']}/queues/").json()["results"][0]
    for event in events:
        assert event["resource"][RESOURCE_ID] == f"tether.deployment.{deployment['id']}"
        assert event["resource"]["tether.resource.name"] == "nightly"
        assert _related_ids(event) == {
            f"tether.flow.{deployment['flow_id']}",
            f"tether.work-pool.{pool['id']}",
            f"tether.work-queue.{default_queue['id']}",
        }
    # Which fields changed, never their values.
    assert events[1]["payload"] == {"changed": ["parameters"]}
    assert "do-not-copy-me" not in str(events)


def test_a_change_that_rolls_back_leaves_no_event(world: World) -> None:
    alice = session(world.alice)
    pool_id = alice.post(POOLS, {"name": "main"}, format="json").json()["id"]
    pool = WorkPool.dangerously_unscoped.get(pk=pool_id)
    with in_prod(world):
        try:
            with transaction.atomic():
                work_pool_set_paused(actor=actor_for(world.alice), pool=pool, paused=True)
                raise RuntimeError("the caller's transaction fails after the change")
        except RuntimeError:
            pass
    assert not Event.dangerously_unscoped.filter(event="tether.work-pool.paused").exists()


def test_agents_are_announced_online_and_offline_once_per_transition(world: World, settings: Any) -> None:
    settings.TETHER_AGENT_HEARTBEAT_SECONDS = 10  # offline after 30 s of silence
    fleet = make_fleet(world)
    alice = session(world.alice)
    agent_id = hello(fleet)
    hello(fleet)  # a restart that was never silent: still the same online agent
    claim(fleet, agent_id)
    for _ in range(3):
        answer = fleet.worker.post(f"{AGENTS}/{agent_id}/heartbeat/", {"runs": []}, format="json")
        assert answer.status_code == 200, answer.content
    assert _names(_events(alice, "tether.agent.")) == ["tether.agent.online"]
    online = _events(alice, "tether.agent.")[0]
    assert online["resource"][RESOURCE_ID] == f"tether.agent.{agent_id}"
    assert online["resource"]["tether.resource.name"] == "agent-1"
    assert _related_ids(online) == {f"tether.work-pool.{fleet.pool.pk}"}
    assert online["payload"]["capacity"] == 4

    # Heard from 20 s ago: still online, nothing to announce.
    Agent.dangerously_unscoped.filter(pk=agent_id).update(last_seen_at=timezone.now() - timedelta(seconds=20))
    assert agents_announce_offline() == 0
    # Silent for 31 s: offline, announced once however often the pass runs.
    Agent.dangerously_unscoped.filter(pk=agent_id).update(last_seen_at=timezone.now() - timedelta(seconds=31))
    assert agents_announce_offline() == 1
    assert agents_announce_offline() == 0
    # It comes back with a heartbeat (no hello): online again, once.
    for _ in range(2):
        answer = fleet.worker.post(f"{AGENTS}/{agent_id}/heartbeat/", {"runs": []}, format="json")
        assert answer.status_code == 200, answer.content
    assert _names(_events(alice, "tether.agent.")) == [
        "tether.agent.online",
        "tether.agent.offline",
        "tether.agent.online",
    ]
    offline = _events(alice, "tether.agent.")[1]
    assert offline["resource"][RESOURCE_ID] == f"tether.agent.{agent_id}"


def test_a_silent_agent_not_yet_announced_offline_comes_back_without_an_event(world: World, settings: Any) -> None:
    settings.TETHER_AGENT_HEARTBEAT_SECONDS = 10
    fleet = make_fleet(world)
    agent_id = hello(fleet)
    Agent.dangerously_unscoped.filter(pk=agent_id).update(last_seen_at=timezone.now() - timedelta(seconds=31))
    hello(fleet)  # back before the offline pass ran: nobody was told it left
    assert agents_announce_offline() == 0
    names = list(Event.dangerously_unscoped.filter(event__startswith="tether.agent.").values_list("event", flat=True))
    assert names == ["tether.agent.online"]


def test_an_agent_online_longer_than_event_retention_is_still_announced_offline(world: World, settings: Any) -> None:
    settings.TETHER_AGENT_HEARTBEAT_SECONDS = 10
    fleet = make_fleet(world)
    agent_id = hello(fleet)
    Event.dangerously_unscoped.filter(event__startswith="tether.agent.").delete()  # as retention would
    Agent.dangerously_unscoped.filter(pk=agent_id).update(last_seen_at=timezone.now() - timedelta(seconds=31))
    assert agents_announce_offline() == 1
    assert agents_announce_offline() == 0
    # Gone for longer than the pass looks back: not announced (nor looked at) any more.
    hello(fleet, name="agent-2")
    Agent.dangerously_unscoped.filter(name="agent-2").update(last_seen_at=timezone.now() - timedelta(hours=2))
    assert agents_announce_offline() == 0


def test_an_automation_reacts_to_a_paused_work_pool(world: World, sink: Sink, developer: Any) -> None:
    alice = session(world.alice)
    block = developer.post(
        f"{PROD}/blocks/",
        {"block_type_slug": "slack-webhook", "name": "alerts", "data": {"url": f"{sink.url}/services/T/B/x"}},
        format="json",
    )
    assert block.status_code == 201, block.content
    automation = developer.post(
        f"{PROD}/automations/",
        {
            "name": "pool paused",
            "trigger": {"expect": ["tether.work-pool.paused"]},
            "actions": [
                {
                    "type": "send-notification",
                    "block_id": block.json()["id"],
                    "subject": "Pool paused",
                    "body": "{{ event.resource.name }} was paused",
                }
            ],
        },
        format="json",
    )
    assert automation.status_code == 201, automation.content
    pool = alice.post(POOLS, {"name": "main"}, format="json").json()
    assert alice.post(f"{POOLS}{pool['id']}/resume/").status_code == 200  # not paused: no event, no message
    assert alice.post(f"{POOLS}{pool['id']}/pause/").status_code == 200
    events_evaluate_all()
    action_runs_execute_due()
    (message,) = sink.wait_for(1)
    assert "main was paused" in message.json()["text"]
