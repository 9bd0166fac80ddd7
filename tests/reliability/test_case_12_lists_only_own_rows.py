"""RELIABILITY 12: list, search, count and ordering endpoints show only the caller's workspace rows.

acme/prod holds one of every object; charlie lists his own organisation and workspace on every
collection route the API has (read from the URL resolver), plain, with the largest page, with
every declared sort order and with search terms that match acme's rows. Nothing of acme's
appears, and the count endpoints count nothing of acme's.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.reliability.support import acme_everything, leaked
from tests.support.clients import session
from tests.support.routes import ApiRoute, api_routes
from tests.support.tenants import World

COLLECTIONS = [
    route
    for route in api_routes()
    if route.is_tenant and not set(route.params) - {"org_slug", "ws_slug"} and ("GET", "list") in route.methods
]
COUNTS = [
    "/api/v1/orgs/umbrella/workspaces/prod/flow-runs/counts/",
    "/api/v1/orgs/umbrella/workspaces/prod/events/counts/",
    "/api/v1/orgs/umbrella/workspaces/prod/events/counts/?by=event",
]
QUERIES = [
    "",
    "?page_size=1000",
    "?name=matrix",
    "?q=matrix",
    "?key=matrix",
    "?slug=matrix",
    "?flow_name=acme-only-flow",
    "?sort=name",
    "?sort=-name",
    "?sort=created",
    "?sort=-created",
    "?sort=expected_start_time",
    "?sort=-expected_start_time",
]


def _numbers(value: Any) -> list[float]:
    if isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        return [value]
    if isinstance(value, dict):
        return [number for item in value.values() for number in _numbers(item)]
    if isinstance(value, list):
        return [number for item in value for number in _numbers(item)]
    return []


def test_every_collection_is_covered() -> None:
    assert len(COLLECTIONS) >= 20


@pytest.mark.parametrize("route", COLLECTIONS, ids=lambda r: r.id)
def test_a_collection_lists_nothing_of_another_tenant(route: ApiRoute, world: World) -> None:
    identifiers = acme_everything(world)
    charlie = session(world.charlie)
    url = route.url(org_slug="umbrella", ws_slug="prod")
    assert session(world.alice).get(route.url(org_slug="acme", ws_slug="prod")).status_code == 200
    for query in QUERIES:
        response = charlie.get(url + query)
        assert response.status_code in (200, 400), f"{url}{query} → {response.status_code}"
        assert leaked(response.content.decode(), identifiers) == [], f"{url}{query}"
    # The same queries on acme's own URL do show its rows: the identifiers are the right ones to hunt.
    own = session(world.alice).get(route.url(org_slug="acme", ws_slug="prod") + "?page_size=1000")
    if route.level == "workspace" and own.json().get("results"):
        assert leaked(own.content.decode(), identifiers) != []


def test_counts_count_nothing_of_another_tenant(world: World) -> None:
    acme_everything(world)
    alice, charlie = session(world.alice), session(world.charlie)
    acme_counts = alice.get("/api/v1/orgs/acme/workspaces/prod/flow-runs/counts/").json()
    assert sum(_numbers(acme_counts)) > 0  # acme does have runs to count
    for url in COUNTS:
        response = charlie.get(url)
        assert response.status_code == 200, url
        assert sum(_numbers(response.json())) == 0, f"{url}: {response.json()}"
