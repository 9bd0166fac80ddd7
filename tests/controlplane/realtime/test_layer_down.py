"""With the channel layer (Redis) down, WebSocket handshakes close with 1013 instead of failing in the app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connections
from pytest_django.fixtures import Settings

from controlplane.asgi import application
from controlplane.realtime.groups import CLOSE_TRY_AGAIN_LATER
from tests.controlplane.workpools.test_dispatch_support import hello, make_fleet
from tests.support.tenants import build_world

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@pytest_asyncio.fixture(autouse=True)
async def _close_thread_connections() -> AsyncIterator[None]:
    yield
    await database_sync_to_async(connections.close_all)()


async def test_agent_and_task_worker_sockets_close_with_try_again_later(
    transactional_db: Any, settings: Settings
) -> None:
    def build() -> tuple[str, str]:
        fleet = make_fleet(build_world())
        return hello(fleet), fleet.worker_secret

    agent_id, secret = await database_sync_to_async(build)()
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "tests.support.broken_layer.UnreachableChannelLayer"}}
    headers = [(b"host", b"127.0.0.1"), (b"authorization", f"Bearer {secret}".encode())]
    for url in (
        f"/ws/v1/orgs/acme/workspaces/prod/agents/{agent_id}",
        "/ws/v1/orgs/acme/workspaces/prod/task-workers",
    ):
        communicator = WebsocketCommunicator(application, url, headers=headers)
        connected, code = await communicator.connect()
        if url.endswith("task-workers"):  # accepted (it joins groups only when it subscribes)
            assert connected
            await communicator.send_json_to({"type": "subscribe", "task_keys": ["k"]})
            assert await communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": 1013}
        else:
            assert (connected, code) == (False, CLOSE_TRY_AGAIN_LATER)
