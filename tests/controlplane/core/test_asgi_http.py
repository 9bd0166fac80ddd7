"""The ASGI application end to end in-process: HTTP through the threaded handler, static in front."""

from __future__ import annotations

import httpx
import pytest

from controlplane.asgi import application


def _client() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://127.0.0.1")


@pytest.mark.asyncio
async def test_health_probe_through_asgi() -> None:
    client = _client()
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.asyncio
async def test_errors_keep_their_json_shape_through_asgi() -> None:
    client = _client()
    unauthenticated = await client.get("/api/v1/orgs/acme/", headers={"Authorization": "Bearer tether_sa_nope"})
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["error"]["code"] == "authentication_failed"
    too_big = await client.post(
        "/api/v1/orgs/", content=b"x" * (6 * 1024 * 1024), headers={"Content-Type": "application/json"}
    )
    assert too_big.status_code == 413
    assert too_big.json()["error"]["details"]["limit_bytes"] == 5 * 1024 * 1024


@pytest.mark.asyncio
async def test_concurrent_requests_are_served_in_parallel_threads() -> None:
    client = _client()
    import asyncio

    responses = await asyncio.gather(*(client.get("/healthz") for _ in range(50)))
    assert {response.status_code for response in responses} == {200}
