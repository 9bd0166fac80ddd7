from __future__ import annotations

from collections.abc import Iterator

import pytest

from controlplane.core.tenancy import tenant_scope
from tests.support.tenants import World


@pytest.fixture
def prod(world: World) -> Iterator[World]:
    """The world, with acme/prod as the tenant in scope (what services run under in a request)."""
    with tenant_scope(organization_id=world.acme.id, workspace_id=world.prod.id):
        yield world
