"""RELIABILITY 9: a worker-role key on member, role, key or block-admin endpoints → 403, nothing changed.

The role matrix (tests/controlplane/test_role_matrix.py) derives every answer from the scope
table; this names the endpoints an agent's key must never reach and checks them directly, with
real ids and real bodies, so a loosened scope table cannot pass silently.
"""

from __future__ import annotations

from typing import Any

from controlplane.apikeys.models import ApiKey
from controlplane.orgs.models import OrgMembership, WorkspaceMembership
from tests.controlplane.blocks.support import make_block
from tests.support.clients import bearer
from tests.support.matrix import FACTORIES, table_counts
from tests.support.tenants import World, personal_key, service_account_key

ORG = "/api/v1/orgs/acme"
PROD = f"{ORG}/workspaces/prod"


def _calls(world: World) -> list[tuple[str, str, dict[str, Any]]]:
    from controlplane.blocks.models import BlockType
    from controlplane.orgs.models import ServiceAccount

    bob_org = OrgMembership.dangerously_unscoped.get(organization=world.acme, user=world.bob).pk
    bob_ws = WorkspaceMembership.dangerously_unscoped.get(workspace=world.prod, user=world.bob).pk
    account = FACTORIES[ServiceAccount](world).pk
    block_type = FACTORIES[BlockType](world).pk
    block = make_block(world, "secret", "agent-must-not-touch", {"value": "v"}).pk
    key = personal_key(world.alice, world.acme)
    key_id = ApiKey.dangerously_unscoped.get(prefix=key[: len("tether_pat_") + 12]).pk
    return [
        ("GET", f"{PROD}/members/", {}),
        ("POST", f"{PROD}/members/", {"user_id": str(world.charlie.id), "role": "owner"}),
        ("PATCH", f"{PROD}/members/{bob_ws}/", {"role": "owner"}),
        ("DELETE", f"{PROD}/members/{bob_ws}/", {}),
        ("GET", f"{ORG}/members/", {}),
        ("PATCH", f"{ORG}/members/{bob_org}/", {"role": "owner"}),
        ("DELETE", f"{ORG}/members/{bob_org}/", {}),
        ("POST", f"{ORG}/invitations/", {"email": "mole@acme.test"}),
        ("GET", f"{ORG}/api-keys/", {}),
        ("POST", f"{ORG}/api-keys/", {"name": "escalate"}),
        ("DELETE", f"{ORG}/api-keys/{key_id}/", {}),
        ("GET", f"{ORG}/service-accounts/", {}),
        ("POST", f"{ORG}/service-accounts/", {"name": "mole"}),
        ("POST", f"{ORG}/service-accounts/{account}/api-keys/", {"name": "mole"}),
        ("GET", f"{ORG}/audit-log/", {}),
        ("POST", f"{PROD}/block-types/", {"slug": "mole", "name": "Mole", "schema": {"type": "object"}}),
        ("PATCH", f"{PROD}/block-types/{block_type}/", {"name": "Renamed"}),
        ("DELETE", f"{PROD}/block-types/{block_type}/", {}),
        ("POST", f"{PROD}/blocks/", {"block_type_slug": "secret", "name": "mole", "data": {"value": "x"}}),
        ("PATCH", f"{PROD}/blocks/{block}/", {"data": {"value": "overwritten"}}),
        ("DELETE", f"{PROD}/blocks/{block}/", {}),
        ("PATCH", f"{PROD}/", {"name": "Renamed"}),
    ]


def test_a_worker_key_is_refused_on_every_administrative_endpoint(world: World) -> None:
    _, secret = service_account_key(world.alice, world.prod, "worker", name="agent")
    worker = bearer(secret)
    assert worker.get(f"{PROD}/access/").json()["role"] == "worker"  # the key itself works
    calls = _calls(world)
    before = table_counts()
    for method, url, body in calls:
        response = getattr(worker, method.lower())(url, body, format="json") if body else worker.generic(method, url)
        assert response.status_code == 403, f"{method} {url} → {response.status_code}"
        assert response.json()["error"]["code"] == "permission_denied", f"{method} {url}"
    assert table_counts() == before
