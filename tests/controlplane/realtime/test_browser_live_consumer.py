"""The web UI's live channel: session sign-in, workspace access, run and log notices, no leaks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections
from django.test import Client
from pytest_django.fixtures import Settings

from controlplane.accounts.models import User
from controlplane.asgi import application
from controlplane.core.tenancy import tenant_scope
from controlplane.orgs.models import WorkspaceMembership
from controlplane.orgs.services.members import workspace_member_remove
from controlplane.runs.models import FlowRun
from controlplane.runs.services.flow_runs import FlowRunRequest, flow_run_cancel, flow_run_create
from controlplane.runs.services.logs import LogLine, logs_ingest
from tests.support.runs import in_prod
from tests.support.tenants import World, actor_for, build_world

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@pytest_asyncio.fixture(autouse=True)
async def _close_thread_connections() -> AsyncIterator[None]:
    """The ORM calls here run on asgiref's shared thread: close its connection so no later test inherits it."""
    yield
    await database_sync_to_async(connections.close_all)()


def _url(org: str = "acme", ws: str = "prod") -> str:
    return f"/ws/v1/orgs/{org}/workspaces/{ws}/live"


def _session_cookie(user: User) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def _communicator(url: str, cookie: str | None, origin: str = "http://127.0.0.1") -> WebsocketCommunicator:
    headers = [(b"host", b"127.0.0.1"), (b"origin", origin.encode())]
    if cookie is not None:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    return WebsocketCommunicator(application, url, headers=headers)


async def _world_and_cookies() -> tuple[World, dict[str, str]]:
    def build() -> tuple[World, dict[str, str]]:
        world = build_world()
        cookies = {name: _session_cookie(getattr(world, name)) for name in ("alice", "bob", "charlie")}
        return world, cookies

    built: tuple[World, dict[str, str]] = await database_sync_to_async(build)()
    return built


async def _connected(url: str, cookie: str | None) -> WebsocketCommunicator:
    communicator = _communicator(url, cookie)
    connected, _ = await communicator.connect()
    assert connected
    assert await communicator.receive_json_from(timeout=2) == {"type": "ready"}
    return communicator


def _create_run(world: World, workspace: str = "prod") -> FlowRun:
    target = world.prod if workspace == "prod" else world.staging
    with tenant_scope(organization_id=world.acme.id, workspace_id=target.id):
        return flow_run_create(
            workspace=target, actor=actor_for(world.alice), request=FlowRunRequest(flow_name="etl")
        ).run


def _log(world: World, run: FlowRun, seq: int) -> None:
    line = LogLine(flow_run_id=run.id, seq=seq, level=20, message=f"line {seq}", timestamp=datetime.now(UTC))
    with in_prod(world):
        logs_ingest(workspace=world.prod, lines=[line])


async def test_a_member_hears_run_changes_and_the_logs_of_runs_they_watch(transactional_db: Any) -> None:
    world, cookies = await _world_and_cookies()
    alice = await _connected(_url(), cookies["alice"])

    run = await database_sync_to_async(_create_run)(world)
    assert await alice.receive_json_from(timeout=2) == {
        "type": "flow_run",
        "flow_run_id": str(run.id),
        "state_type": "SCHEDULED",
        "state_name": "Scheduled",
        "deployment_id": None,
    }

    # Lines of a run nobody subscribed to stay on the server.
    await database_sync_to_async(_log)(world, run, 1)
    assert await alice.receive_nothing(timeout=0.3)

    await alice.send_json_to({"type": "subscribe", "flow_run_id": str(run.id)})
    await alice.send_json_to({"type": "ping"})
    assert await alice.receive_json_from(timeout=2) == {"type": "pong"}  # the subscription is in place
    await database_sync_to_async(_log)(world, run, 2)
    assert await alice.receive_json_from(timeout=2) == {"type": "logs", "flow_run_id": str(run.id)}

    def cancel() -> None:
        with in_prod(world):
            flow_run_cancel(run_id=run.id)

    await database_sync_to_async(cancel)()
    message = await alice.receive_json_from(timeout=2)
    assert (message["flow_run_id"], message["state_type"]) == (str(run.id), "CANCELLED")

    await alice.send_json_to({"type": "unsubscribe", "flow_run_id": str(run.id)})
    await alice.send_json_to({"type": "ping"})
    assert await alice.receive_json_from(timeout=2) == {"type": "pong"}
    await database_sync_to_async(_log)(world, run, 3)
    assert await alice.receive_nothing(timeout=0.3)
    await alice.disconnect()


async def test_nothing_from_another_workspace_reaches_the_socket(transactional_db: Any) -> None:
    world, cookies = await _world_and_cookies()
    alice = await _connected(_url(), cookies["alice"])
    staging_run = await database_sync_to_async(_create_run)(world, "staging")
    # Even a subscription to the foreign run's id hears nothing of it.
    await alice.send_json_to({"type": "subscribe", "flow_run_id": str(staging_run.id)})
    assert await alice.receive_nothing(timeout=0.3)
    await alice.disconnect()


async def test_handshakes_without_access_are_refused(transactional_db: Any) -> None:
    _world, cookies = await _world_and_cookies()
    refused = [
        (_url(), None),  # not signed in
        (_url(), "not-a-session"),
        (_url(), cookies["charlie"]),  # another organisation's user
        (_url("acme", "nope"), cookies["alice"]),  # a workspace that does not exist
        (_url(ws="staging"), cookies["bob"]),  # bob is in acme, but not in its staging workspace
    ]
    for url, cookie in refused:
        connected, _ = await _communicator(url, cookie).connect()
        assert not connected, (url, cookie is None)


async def test_a_cross_origin_handshake_is_refused(transactional_db: Any) -> None:
    _world, cookies = await _world_and_cookies()
    connected, _ = await _communicator(_url(), cookies["alice"], origin="https://evil.example").connect()
    assert not connected


async def test_removing_a_member_closes_their_socket(transactional_db: Any) -> None:
    world, cookies = await _world_and_cookies()
    bob = await _connected(_url(), cookies["bob"])  # a viewer may watch

    def remove_bob() -> None:
        with in_prod(world):
            membership = WorkspaceMembership.objects.get(user=world.bob)
            workspace_member_remove(actor=actor_for(world.alice), membership=membership)

    await database_sync_to_async(remove_bob)()
    closed = await bob.receive_output(timeout=2)
    assert closed == {"type": "websocket.close", "code": 4403}

    # Runs created afterwards are not announced to him on a new socket either: it is refused.
    connected, _ = await _communicator(_url(), cookies["bob"]).connect()
    assert not connected


async def test_an_idle_socket_stays_open_past_the_redis_read_timeout(transactional_db: Any, settings: Settings) -> None:
    """redis-py 8 cuts socket reads after 5 s by default; the layer's blocking pop must survive idling."""
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": settings.REDIS_URL, "socket_timeout": 30}]},  # as prod.py
        }
    }
    world, cookies = await _world_and_cookies()
    alice = await _connected(_url(), cookies["alice"])
    assert await alice.receive_nothing(timeout=7)  # longer than the layer's 5 s blocking pop
    run = await database_sync_to_async(_create_run)(world)
    message = await alice.receive_json_from(timeout=2)
    assert message["flow_run_id"] == str(run.id)
    await alice.disconnect()
