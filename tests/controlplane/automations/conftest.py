from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pytest_django.fixtures import Settings

from tests.controlplane.automations.sink import Sink, http_sink
from tests.support.clients import bearer
from tests.support.tenants import World, service_account_key


@pytest.fixture
def developer(world: World) -> Any:
    _, secret = service_account_key(world.alice, world.prod, "developer", name="dev")
    return bearer(secret)


@pytest.fixture
def sink(settings: Settings) -> Iterator[Sink]:
    settings.TETHER_OUTBOUND_ALLOW = ["127.0.0.1"]
    with http_sink() as running:
        yield running
