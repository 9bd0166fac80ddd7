"""The agent control channel: key on connect, wake and cancel pushes, no cross-tenant listening."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connections

from controlplane.asgi import application
from controlplane.runs.services.flow_runs import FlowRunRequest, flow_run_cancel, flow_run_create
from tests.controlplane.workpools.test_dispatch_support import Fleet, claim, due_run, hello, make_fleet
from tests.support.runs import in_prod
from tests.support.tenants import World, actor_for, build_world, service_account_key

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@pytest_asyncio.fixture(autouse=True)
async def _close_thread_connections() -> AsyncIterator[None]:
    """The ORM calls here run on asgiref's shared thread: close its connection so no later test inherits it."""
    yield
    await database_sync_to_async(connections.close_all)()


def _url(agent_id: str, org: str = "acme", ws: str = "prod") -> str:
    return f"/ws/v1/orgs/{org}/workspaces/{ws}/agents/{agent_id}"


def _communicator(url: str, secret: str | None) -> WebsocketCommunicator:
    headers = [(b"host", b"127.0.0.1")]
    if secret is not None:
        headers.append((b"authorization", f"Bearer {secret}".encode()))
    return WebsocketCommunicator(application, url, headers=headers)


async def _setup() -> tuple[World, Fleet, str]:
    def build() -> tuple[World, Fleet, str]:
        world = build_world()
        fleet = make_fleet(world)
        return world, fleet, hello(fleet)

    built: tuple[World, Fleet, str] = await database_sync_to_async(build)()
    return built


async def test_agent_is_woken_when_a_due_run_is_created_and_told_to_cancel(transactional_db: Any) -> None:
    world, fleet, agent_id = await _setup()
    communicator = _communicator(_url(agent_id), fleet.worker_secret)
    connected, _ = await communicator.connect()
    assert connected

    def create() -> None:
        with in_prod(world):
            flow_run_create(
                workspace=world.prod, actor=actor_for(world.alice), request=FlowRunRequest(deployment=fleet.deployment)
            )

    await database_sync_to_async(create)()
    message = await communicator.receive_json_from(timeout=2)
    assert message == {"type": "wake", "pool_id": str(fleet.pool.pk)}

    def claim_and_cancel() -> str:
        (claimed,) = claim(fleet, agent_id)
        run_id = claimed["flow_run"]["id"]
        with in_prod(world):
            flow_run_cancel(run_id=run_id)
        return str(run_id)

    run_id = await database_sync_to_async(claim_and_cancel)()
    assert await communicator.receive_json_from(timeout=2) == {"type": "cancel", "run_id": run_id}
    await communicator.disconnect()


async def test_runs_scheduled_for_later_wake_the_pool_when_due(transactional_db: Any) -> None:
    from controlplane.services import due_runs

    _world, fleet, agent_id = await _setup()
    communicator = _communicator(_url(agent_id), fleet.worker_secret)
    assert (await communicator.connect())[0]
    await database_sync_to_async(due_runs.tick)()
    await database_sync_to_async(lambda: due_run(fleet, due_in=5.5))()  # enters the 5 s prefetch window soon
    assert await communicator.receive_nothing(timeout=0.1)
    for _ in range(20):
        if await database_sync_to_async(due_runs.tick)():
            break
        await asyncio.sleep(0.1)
    assert await communicator.receive_json_from(timeout=1) == {"type": "wake", "pool_id": str(fleet.pool.pk)}
    await communicator.disconnect()


async def test_handshake_without_a_valid_key_is_refused(transactional_db: Any) -> None:
    _, _fleet, agent_id = await _setup()
    for secret in (None, "tether_sa_nonsense"):
        connected, _ = await _communicator(_url(agent_id), secret).connect()
        assert not connected


async def test_another_tenants_key_or_agent_is_refused(transactional_db: Any) -> None:
    world, _fleet, agent_id = await _setup()

    def others() -> tuple[str, str, str]:
        _, charlie = service_account_key(world.charlie, world.umbrella_prod, "worker", name="charlie-agent")
        _, staging = service_account_key(world.alice, world.staging, "worker", name="staging-agent")
        _, viewer = service_account_key(world.alice, world.prod, "viewer", name="prod-viewer")
        return charlie, staging, viewer

    charlie, staging, viewer = await database_sync_to_async(others)()
    refused = [
        (_url(agent_id), charlie),
        (_url(agent_id, "umbrella", "prod"), charlie),  # charlie's workspace, acme's agent id
        (_url(agent_id, ws="staging"), staging),  # acme's staging key: the agent lives in prod
        (_url(agent_id), viewer),  # in the workspace, but may not claim
    ]
    for url, secret in refused:
        connected, _ = await _communicator(url, secret).connect()
        assert not connected, url
