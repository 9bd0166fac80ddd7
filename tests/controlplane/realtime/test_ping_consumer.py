from __future__ import annotations

import pytest
from channels.testing import WebsocketCommunicator

from controlplane.asgi import application


@pytest.mark.asyncio
async def test_ping_pong_over_websocket() -> None:
    communicator = WebsocketCommunicator(application, "/ws/v1/ping", headers=[(b"host", b"127.0.0.1")])
    connected, _ = await communicator.connect()
    assert connected
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from() == {"type": "pong"}
    await communicator.send_json_to({"type": "other"})
    assert (await communicator.receive_json_from())["type"] == "error"
    await communicator.disconnect()


@pytest.mark.asyncio
async def test_same_origin_browser_handshake_is_accepted() -> None:
    communicator = WebsocketCommunicator(
        application, "/ws/v1/ping", headers=[(b"host", b"127.0.0.1"), (b"origin", b"http://127.0.0.1:8000")]
    )
    connected, _ = await communicator.connect()
    assert connected
    await communicator.disconnect()


@pytest.mark.asyncio
async def test_cross_origin_handshake_is_refused() -> None:
    communicator = WebsocketCommunicator(
        application, "/ws/v1/ping", headers=[(b"host", b"127.0.0.1"), (b"origin", b"https://evil.example")]
    )
    connected, _ = await communicator.connect()
    assert not connected
