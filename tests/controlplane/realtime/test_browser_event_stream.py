"""The live event stream on the UI socket: opt-in, the events API's shape, one channel message
per batch, and a per-socket rate cap that reports what it dropped."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from pytest_django.fixtures import Settings

from controlplane.core.tenancy import tenant_scope
from controlplane.events.api.serializers import EventSerializer
from controlplane.events.models import Event
from controlplane.events.services import events_ingest
from controlplane.realtime import browsers, live
from tests.controlplane.realtime.test_browser_live_consumer import (
    _close_thread_connections,  # noqa: F401  (an autouse fixture, used here too)
    _connected,
    _create_run,
    _url,
    _world_and_cookies,
)
from tests.support.tenants import World

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

SHAPE = {"id", "event", "occurred", "received", "resource", "related", "payload"}


@pytest.fixture(autouse=True)
def _layer_as_in_production(settings: Settings) -> None:
    """The socket timeout prod.py sets: redis-py's default cuts the layer's blocking read after 5 s idle."""
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": settings.REDIS_URL, "socket_timeout": 30}]},
        }
    }


def _ingest(world: World, count: int, name: str = "file.arrived", workspace: str = "prod") -> list[str]:
    ids = [str(uuid.uuid4()) for _ in range(count)]
    items: list[dict[str, Any]] = [
        {
            "id": event_id,
            "event": name,
            "resource": {"tether.resource.id": f"s3://bucket/{index}.csv"},
            "related": [{"tether.resource.id": "s3://bucket", "tether.resource.role": "bucket"}],
            "payload": {"index": index},
        }
        for index, event_id in enumerate(ids)
    ]
    target = world.prod if workspace == "prod" else world.staging
    with tenant_scope(organization_id=world.acme.id, workspace_id=target.id):
        events_ingest(workspace=target, events=items)
    return ids


def _as_listed(event_id: str) -> dict[str, Any]:
    return dict(EventSerializer(Event.dangerously_unscoped.get(id=event_id)).data)


async def _subscribe(communicator: WebsocketCommunicator, kind: str = "subscribe_events") -> None:
    await communicator.send_json_to({"type": kind})
    await communicator.send_json_to({"type": "ping"})
    await _receive(communicator, 1, {"pong"})  # the change is in place (earlier hints are skipped)


async def _receive(communicator: WebsocketCommunicator, count: int, kinds: set[str]) -> list[dict[str, Any]]:
    """The next `count` messages of the given types (run hints and such in between are skipped)."""
    found: list[dict[str, Any]] = []
    while len(found) < count:
        message = await communicator.receive_json_from(timeout=10)
        if message["type"] in kinds:
            found.append(message)
    return found


async def test_a_subscribed_socket_receives_each_event_as_the_api_lists_it(transactional_db: Any) -> None:
    world, cookies = await _world_and_cookies()
    alice = await _connected(_url(), cookies["alice"])
    bob = await _connected(_url(), cookies["bob"])  # connected, never subscribed
    await _subscribe(alice)

    ids = await database_sync_to_async(_ingest)(world, 3)
    messages = await _receive(alice, 3, {"event"})
    assert [message["event"]["id"] for message in messages] == ids
    first = messages[0]["event"]
    assert set(first) == SHAPE
    assert first["event"] == "file.arrived"
    assert first["resource"] == {"tether.resource.id": "s3://bucket/0.csv"}
    assert first["related"] == [{"tether.resource.id": "s3://bucket", "tether.resource.role": "bucket"}]
    assert first["payload"] == {"index": 0}
    # Exactly what the events API answers for it.
    listed = await database_sync_to_async(_as_listed)(ids[0])
    assert first == listed
    assert first["occurred"]
    assert first["received"]
    assert await bob.receive_nothing(timeout=0.5)

    # Control-plane events stream too: a new run is `tether.flow-run.Scheduled`.
    run = await database_sync_to_async(_create_run)(world)
    (scheduled,) = await _receive(alice, 1, {"event"})
    assert scheduled["event"]["event"] == "tether.flow-run.Scheduled"
    assert scheduled["event"]["resource"]["tether.resource.id"] == f"tether.flow-run.{run.id}"

    await _subscribe(alice, "unsubscribe_events")
    await database_sync_to_async(_ingest)(world, 2)
    assert await alice.receive_nothing(timeout=0.5)
    await alice.disconnect()
    await bob.disconnect()


async def test_events_of_another_workspace_never_reach_the_socket(transactional_db: Any) -> None:
    world, cookies = await _world_and_cookies()
    alice = await _connected(_url(), cookies["alice"])
    await _subscribe(alice)
    await database_sync_to_async(_ingest)(world, 2, workspace="staging")
    assert await alice.receive_nothing(timeout=0.5)
    await database_sync_to_async(_ingest)(world, 1)
    (message,) = await _receive(alice, 1, {"event"})
    assert message["event"]["resource"]["tether.resource.id"] == "s3://bucket/0.csv"
    await alice.disconnect()


async def test_a_batch_is_one_channel_message(transactional_db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    world, cookies = await _world_and_cookies()
    alice = await _connected(_url(), cookies["alice"])
    await _subscribe(alice)
    sent: list[tuple[str, dict[str, Any]]] = []
    original = live._send

    def counting(group: str, message: dict[str, Any]) -> None:
        sent.append((group, message))
        original(group, message)

    monkeypatch.setattr(live, "_send", counting)
    await database_sync_to_async(_ingest)(world, 100)
    assert len(await _receive(alice, 100, {"event"})) == 100
    to_stream = [message for group, message in sent if group == live.workspace_events_group(world.prod.id)]
    assert len(to_stream) == 1
    assert (len(to_stream[0]["events"]), to_stream[0]["omitted"]) == (100, 0)
    await alice.disconnect()


async def test_a_burst_beyond_the_cap_is_cut_and_reported(
    transactional_db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(browsers, "EVENTS_PER_SECOND", 5)
    # A long window, so that both batches surely fall in the first one on a loaded machine.
    monkeypatch.setattr(browsers, "EVENTS_WINDOW_SECONDS", 4.0)
    monkeypatch.setattr(live, "EVENTS_PER_MESSAGE", 8)
    world, cookies = await _world_and_cookies()
    alice = await _connected(_url(), cookies["alice"])
    await _subscribe(alice)

    # 12 events: 8 travel in the channel message (4 only counted), 5 of those are forwarded.
    ids = await database_sync_to_async(_ingest)(world, 12)
    await database_sync_to_async(_ingest)(world, 3)  # same window: all dropped
    messages = await _receive(alice, 6, {"event", "events_dropped"})
    assert [message["event"]["id"] for message in messages[:5]] == ids[:5]
    assert messages[5] == {"type": "events_dropped", "count": 7 + 3}
    # One notice per window, however many batches were cut.
    assert await alice.receive_nothing(timeout=1.5)

    # A new window: events flow again.
    later = await database_sync_to_async(_ingest)(world, 2)
    assert [message["event"]["id"] for message in await _receive(alice, 2, {"event"})] == later
    await alice.disconnect()


async def test_unknown_messages_are_answered_with_an_error(transactional_db: Any) -> None:
    _world, cookies = await _world_and_cookies()
    alice = await _connected(_url(), cookies["alice"])
    await alice.send_json_to({"type": "subscribe_everything"})
    answer = await alice.receive_json_from(timeout=5)
    assert answer["type"] == "error"
    assert "subscribe_events" in answer["message"]
    await alice.disconnect()
