"""RELIABILITY 7: removing a member through the API ends their sessions, keys and live sockets at once.

bob (a prod viewer) has a signed-in session, a personal key and the UI's live socket open;
dave (a prod worker) runs an agent and a task worker with his personal key, so he holds the
agent control channel and the task-worker wake channel. An owner removes both from the
organisation with one API call each. Nothing is waited for but the close messages: no periodic
re-check is involved.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections
from django.test import Client
from rest_framework.test import APIClient

from controlplane.accounts.models import User
from controlplane.asgi import application
from controlplane.orgs.models import OrgMembership
from tests.controlplane.workpools.test_dispatch_support import hello, make_fleet
from tests.support.clients import bearer, session
from tests.support.tenants import add_org_member, add_workspace_member, build_world, make_user, personal_key

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

ACCESS = "/api/v1/orgs/acme/workspaces/prod/access/"
CLOSE_FORBIDDEN = 4403


@pytest_asyncio.fixture(autouse=True)
async def _close_thread_connections() -> AsyncIterator[None]:
    yield
    await database_sync_to_async(connections.close_all)()


@dataclass
class Scene:
    owner: APIClient
    bob_session: APIClient
    bob_cookie: str
    bob_key: str
    bob_membership: str
    dave_key: str
    dave_membership: str
    agent_id: str


def _cookie(user: User) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def _build() -> Scene:
    world = build_world()
    dave = make_user("dave@acme.test")
    add_org_member(world.acme, dave)
    add_workspace_member(world.prod, "worker", user=dave)
    fleet = make_fleet(world)

    def membership(user: User) -> str:
        return str(OrgMembership.dangerously_unscoped.get(organization=world.acme, user=user).pk)

    return Scene(
        owner=session(world.alice),
        bob_session=session(world.bob),
        bob_cookie=_cookie(world.bob),
        bob_key=personal_key(world.bob, world.acme),
        bob_membership=membership(world.bob),
        dave_key=personal_key(dave, world.acme),
        dave_membership=membership(dave),
        agent_id=hello(fleet),
    )


async def _open(url: str, headers: list[tuple[bytes, bytes]]) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, url, headers=[(b"host", b"127.0.0.1"), *headers])
    connected, _ = await communicator.connect()
    assert connected, url
    return communicator


async def test_removal_cuts_off_session_key_and_every_kind_of_socket(transactional_db: Any) -> None:
    scene: Scene = await database_sync_to_async(_build)()
    live = await _open(
        "/ws/v1/orgs/acme/workspaces/prod/live",
        [(b"origin", b"http://127.0.0.1"), (b"cookie", f"{settings.SESSION_COOKIE_NAME}={scene.bob_cookie}".encode())],
    )
    assert await live.receive_json_from(timeout=5) == {"type": "ready"}
    agent = await _open(
        f"/ws/v1/orgs/acme/workspaces/prod/agents/{scene.agent_id}",
        [(b"authorization", f"Bearer {scene.dave_key}".encode())],
    )
    task_worker = await _open(
        "/ws/v1/orgs/acme/workspaces/prod/task-workers", [(b"authorization", f"Bearer {scene.dave_key}".encode())]
    )

    def before() -> list[int]:
        return [
            scene.bob_session.get(ACCESS).status_code,
            bearer(scene.bob_key).get(ACCESS).status_code,
            bearer(scene.dave_key).get(ACCESS).status_code,
        ]

    assert await database_sync_to_async(before)() == [200, 200, 200]

    def remove(membership_id: str) -> int:
        return int(scene.owner.delete(f"/api/v1/orgs/acme/members/{membership_id}/").status_code)

    assert await database_sync_to_async(remove)(scene.bob_membership) == 204
    assert await live.receive_output(timeout=5) == {"type": "websocket.close", "code": CLOSE_FORBIDDEN}
    assert await database_sync_to_async(remove)(scene.dave_membership) == 204
    assert await agent.receive_output(timeout=5) == {"type": "websocket.close", "code": CLOSE_FORBIDDEN}
    assert await task_worker.receive_output(timeout=5) == {"type": "websocket.close", "code": CLOSE_FORBIDDEN}

    def after() -> list[int]:
        return [
            scene.bob_session.get(ACCESS).status_code,
            bearer(scene.bob_key).get(ACCESS).status_code,
            bearer(scene.dave_key).get(ACCESS).status_code,
        ]

    assert await database_sync_to_async(after)() == [404, 401, 401]
    refused, _ = await WebsocketCommunicator(
        application,
        f"/ws/v1/orgs/acme/workspaces/prod/agents/{scene.agent_id}",
        headers=[(b"host", b"127.0.0.1"), (b"authorization", f"Bearer {scene.dave_key}".encode())],
    ).connect()
    assert not refused
