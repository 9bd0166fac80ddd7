"""The SPA is index.html for `/` and client routes; server paths never fall back to it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from django.test import Client

from controlplane.core.static import with_static_files

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
async def test_built_assets_are_served_before_django_and_cached_forever(frontend_dist: Path, settings: Any) -> None:
    (frontend_dist / "assets" / "app-Ab12Cd34.js").write_text("console.log('tether')")
    (frontend_dist / "assets" / "plain.js").write_text("plain")
    settings.STATICFILES_DIRS = [frontend_dist]
    app = with_static_files(NotDjango())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client:
        hashed = await client.get("/static/assets/app-Ab12Cd34.js")
        assert hashed.status_code == 200
        assert hashed.text == "console.log('tether')"
        assert "immutable" in hashed.headers["cache-control"]
        assert "immutable" not in (await client.get("/static/assets/plain.js")).headers["cache-control"]
        assert (await client.get("/static/assets/missing.js")).text == "django"


class NotDjango:
    """Stands for the Django app behind the static layer: answers what the layer passes on."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b"django"})


def test_missing_build_explains_itself(client: Client, tmp_path: Path, settings: Any) -> None:
    settings.FRONTEND_DIST = tmp_path / "not-built"
    response = client.get("/")
    assert response.status_code == 503
    assert b"make up" in response.content
