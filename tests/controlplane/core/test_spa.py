"""The SPA is index.html for `/` and client routes; server paths never fall back to it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import AsyncClient, Client

pytestmark = pytest.mark.django_db


def test_root_serves_index(client: Client, frontend_dist: Path) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert b'<div id="root">' in response.content
    assert response["Cache-Control"] == "no-cache"
    assert "csrftoken" in response.cookies


@pytest.mark.parametrize("route", ["/runs", "/runs/3fa85f64-5717-4562-b3fc-2c963f66afa6", "/settings/members/"])
def test_client_routes_fall_back_to_index(client: Client, frontend_dist: Path, route: str) -> None:
    response = client.get(route)
    assert response.status_code == 200
    assert b'<div id="root">' in response.content


@pytest.mark.parametrize("route", ["/api/v1/nope/", "/api/v1/info", "/static/missing.js", "/ws/v1/x", "/hooks/x"])
def test_server_paths_do_not_fall_back(client: Client, frontend_dist: Path, route: str) -> None:
    response = client.get(route)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_non_get_on_client_route_is_405(client: Client, frontend_dist: Path) -> None:
    response = client.post("/runs")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


@pytest.mark.asyncio
async def test_built_assets_are_served_immutable(frontend_dist: Path, settings: Any) -> None:
    (frontend_dist / "assets" / "app-Ab12Cd34.js").write_text("console.log('tether')")
    settings.STATICFILES_DIRS = [frontend_dist]
    response = await AsyncClient().get("/static/assets/app-Ab12Cd34.js")
    assert response.status_code == 200
    chunks = [chunk async for chunk in response.streaming_content]  # type: ignore[attr-defined]
    assert b"".join(chunks) == b"console.log('tether')"
    assert "immutable" in response["Cache-Control"]


def test_missing_build_explains_itself(client: Client, tmp_path: Path, settings: Any) -> None:
    settings.FRONTEND_DIST = tmp_path / "not-built"
    response = client.get("/")
    assert response.status_code == 503
    assert b"make up" in response.content
