"""The task-worker wake channel: key on connect, subscribe to task keys, a wake per queued run, tenants apart."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connections

from controlplane.asgi import application
from controlplane.runs.services.background import BackgroundTaskRequest, background_task_create
from tests.support.runs import in_prod
from tests.support.tenants import World, build_world, service_account_key

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

URL = "/ws/v1/orgs/acme/workspaces/prod/task-workers"


@pytest_asyncio.fixture(autouse=True)
async def _close_thread_connections() -> AsyncIterator[None]:
    """The ORM calls here run on asgiref's shared thread: close its connection so no later test inherits it."""
    yield
    await database_sync_to_async(connections.close_all)()


def _communicator(secret: str | None, url: str = URL) -> WebsocketCommunicator:
    headers = [(b"host", b"127.0.0.1")]
    if secret is not None:
        headers.append((b"authorization", f"Bearer {secret}".encode()))
    return WebsocketCommunicator(application, url, headers=headers)


async def _world_and_worker_key() -> tuple[World, str]:
    def build() -> tuple[World, str]:
        world = build_world()
        _, secret = service_account_key(world.alice, world.prod, "worker", name="task-worker")
        return world, secret

    built: tuple[World, str] = await database_sync_to_async(build)()
    return built


def _queue(world: World, task_key: str) -> None:
    with in_prod(world):
        background_task_create(workspace=world.prod, request=BackgroundTaskRequest(task_key=task_key))


async def test_a_subscribed_worker_is_woken_for_its_task_keys_only(transactional_db: Any) -> None:
    world, secret = await _world_and_worker_key()
    communicator = _communicator(secret)
    connected, _ = await communicator.connect()
    assert connected
    await communicator.send_json_to({"type": "subscribe", "task_keys": ["send-email", "resize/image:v2"]})
    assert await communicator.receive_json_from(timeout=2) == {"type": "subscribed", "count": 2}

    await database_sync_to_async(_queue)(world, "resize/image:v2")
    assert await communicator.receive_json_from(timeout=2) == {"type": "wake", "task_key": "resize/image:v2"}
    await database_sync_to_async(_queue)(world, "not-served")
    assert await communicator.receive_nothing(timeout=0.3)

    # A new subscription replaces the old one.
    await communicator.send_json_to({"type": "subscribe", "task_keys": ["not-served"]})
    assert await communicator.receive_json_from(timeout=2) == {"type": "subscribed", "count": 1}
    await database_sync_to_async(_queue)(world, "send-email")
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_bad_subscriptions_are_answered_with_an_error(transactional_db: Any) -> None:
    _, secret = await _world_and_worker_key()
    communicator = _communicator(secret)
    connected, _ = await communicator.connect()
    assert connected
    for bad in ({"type": "subscribe", "task_keys": []}, {"type": "subscribe", "task_keys": ["x" * 256]}, {"type": 1}):
        await communicator.send_json_to(bad)
        assert (await communicator.receive_json_from(timeout=2))["type"] == "error"
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from(timeout=2) == {"type": "pong"}
    await communicator.disconnect()


async def test_without_a_claiming_key_of_this_workspace_the_handshake_is_refused(transactional_db: Any) -> None:
    world, _ = await _world_and_worker_key()

    def others() -> tuple[str, str]:
        _, charlie = service_account_key(world.charlie, world.umbrella_prod, "worker", name="charlie-worker")
        _, viewer = service_account_key(world.alice, world.prod, "viewer", name="prod-viewer")
        return charlie, viewer

    charlie, viewer = await database_sync_to_async(others)()
    for secret in (None, "tether_sa_nonsense", charlie, viewer):
        connected, _ = await _communicator(secret).connect()
        assert not connected, secret


async def test_another_tenants_runs_do_not_wake_this_workspaces_workers(transactional_db: Any) -> None:
    world, secret = await _world_and_worker_key()
    communicator = _communicator(secret)
    assert (await communicator.connect())[0]
    await communicator.send_json_to({"type": "subscribe", "task_keys": ["send-email"]})
    assert (await communicator.receive_json_from(timeout=2))["type"] == "subscribed"

    def queue_in_umbrella() -> None:
        from controlplane.core.tenancy import tenant_scope

        with tenant_scope(organization_id=world.umbrella.id, workspace_id=world.umbrella_prod.id):
            background_task_create(workspace=world.umbrella_prod, request=BackgroundTaskRequest(task_key="send-email"))

    await database_sync_to_async(queue_in_umbrella)()
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()
