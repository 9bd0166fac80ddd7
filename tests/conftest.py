"""Fixtures shared by every suite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.cache import cache
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from controlplane.orgs.access_cache import clear_access_caches
from tests.support.tenants import World, build_world


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    # allauth keeps rate-limit logs in the cache, which outlives a test's database.
    cache.clear()
    clear_access_caches()  # a rolled-back test database takes the access generation back with it
    yield
    cache.clear()
    clear_access_caches()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def frontend_dist(tmp_path: Path, settings: Settings) -> Path:
    """A stand-in SPA build, so routing tests do not depend on `npm run build`."""
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(
        '<!doctype html><html><body><div id="root"></div>'
        '<script type="module" src="/static/assets/index-test.js"></script></body></html>'
    )
    settings.FRONTEND_DIST = dist
    return dist


@pytest.fixture
def world(db: None) -> World:
    """alice owns acme (workspaces prod, staging); bob is an acme member and prod viewer; charlie owns umbrella."""
    return build_world()
