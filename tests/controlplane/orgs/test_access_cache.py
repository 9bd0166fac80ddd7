"""Each web process remembers what a key may do, and forgets it with the database's next change.

The writes here go around the services on purpose (queryset updates, raw SQL): the triggers
must catch every path, not only the ones that send signals.
"""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from controlplane.apikeys.models import ApiKey
from controlplane.apikeys.tokens import parse_key
from controlplane.orgs import access_cache
from controlplane.orgs.access import cached_workspace_access
from controlplane.orgs.models import AccessGeneration, OrgMembership, WorkspaceMembership
from controlplane.orgs.principals import Principal
from tests.support.clients import bearer
from tests.support.tenants import World, personal_key, service_account_key

ACCESS = "/api/v1/orgs/acme/workspaces/prod/access/"


@pytest.fixture(autouse=True)
def _generation_row(db: None) -> None:
    # A flushing test elsewhere on this worker truncates the row; the first request would reseed it.
    AccessGeneration.objects.get_or_create(id=1)


def _generation() -> int:
    return AccessGeneration.objects.get(id=1).value


def _key(secret: str) -> ApiKey:
    parsed = parse_key(secret)
    assert parsed is not None
    key: ApiKey = ApiKey.dangerously_unscoped.get(prefix=parsed.lookup_prefix)
    return key


def test_a_repeated_request_reads_only_the_generation(world: World) -> None:
    _, secret = service_account_key(world.alice, world.prod, "worker")
    client = bearer(secret)
    with CaptureQueriesContext(connection) as first:
        assert client.get(ACCESS).status_code == 200
    with CaptureQueriesContext(connection) as second:
        assert client.get(ACCESS).status_code == 200
    tables = " ".join(query["sql"] for query in second.captured_queries)
    assert "apikeys_apikey" not in tables
    assert "orgs_workspace" not in tables
    assert "orgs_accessgeneration" in tables
    assert len(second.captured_queries) < len(first.captured_queries)


def test_revoking_with_a_bare_update_refuses_the_next_request(world: World) -> None:
    _, secret = service_account_key(world.alice, world.prod, "worker")
    client = bearer(secret)
    assert client.get(ACCESS).status_code == 200
    ApiKey.dangerously_unscoped.filter(pk=_key(secret).pk).update(revoked_at=timezone.now())
    assert client.get(ACCESS).status_code == 401


def test_a_membership_deleted_in_raw_sql_is_gone_from_the_next_request(world: World) -> None:
    account, secret = service_account_key(world.alice, world.prod, "worker")
    client = bearer(secret)
    assert client.get(ACCESS).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM orgs_workspacemembership WHERE service_account_id = %s", [account.id])
    assert client.get(ACCESS).status_code == 404


def test_a_role_changed_with_a_bare_update_applies_at_once(world: World) -> None:
    account, secret = service_account_key(world.alice, world.prod, "worker")
    client = bearer(secret)
    assert client.get(ACCESS).json()["role"] == "worker"
    WorkspaceMembership.dangerously_unscoped.filter(service_account=account).update(role="viewer")
    assert client.get(ACCESS).json()["role"] == "viewer"


def test_leaving_the_organisation_applies_at_once_to_a_personal_key(world: World) -> None:
    secret = personal_key(world.bob, world.acme)
    client = bearer(secret)
    assert client.get(ACCESS).status_code == 200
    OrgMembership.dangerously_unscoped.filter(user=world.bob, organization=world.acme).delete()
    assert client.get(ACCESS).status_code == 404


def test_a_deactivated_user_is_refused_at_once(world: World) -> None:
    secret = personal_key(world.bob, world.acme)
    client = bearer(secret)
    assert client.get(ACCESS).status_code == 200
    type(world.bob).objects.filter(pk=world.bob.pk).update(is_active=False)
    assert client.get(ACCESS).status_code == 401


def test_expiry_needs_no_write(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = personal_key(world.bob, world.acme, expires_at=timezone.now() + timedelta(hours=1))
    client = bearer(secret)
    assert client.get(ACCESS).status_code == 200
    later = timezone.now() + timedelta(hours=2)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert client.get(ACCESS).status_code == 401


def test_recording_a_keys_use_keeps_every_cache(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    _, secret = service_account_key(world.alice, world.prod, "worker")
    client = bearer(secret)
    client.get(ACCESS)
    before = _generation()
    later = timezone.now() + timedelta(minutes=5)
    monkeypatch.setattr(timezone, "now", lambda: later)
    client.get(ACCESS)
    assert _key(secret).last_used_at == later  # the use was written...
    assert _generation() == before  # ...and is not a change of access


def test_a_change_made_to_one_requests_workspace_does_not_reach_the_next(world: World) -> None:
    # Services change the instances they are handed (a rename); the cache must hand out copies.
    _, secret = service_account_key(world.alice, world.prod, "owner")
    key = _key(secret)
    principal = Principal(kind="service_account", service_account=key.service_account, api_key=key)
    first = cached_workspace_access(SimpleNamespace(), principal, "acme", "prod")
    first.workspace.name = "renamed but never saved"
    first.organization.name = "also unsaved"
    second = cached_workspace_access(SimpleNamespace(), principal, "acme", "prod")
    assert second.workspace.name == world.prod.name
    assert second.organization.name == world.acme.name
    assert second.workspace.organization is second.organization
    assert access_cache.accesses.get(("workspace", key.pk, "acme", "prod"), _generation()) is not None


def test_a_truncated_generation_is_reseeded_and_nothing_is_cached_meanwhile(world: World) -> None:
    _, secret = service_account_key(world.alice, world.prod, "worker")
    client = bearer(secret)
    AccessGeneration.objects.all().delete()
    with CaptureQueriesContext(connection) as uncached:
        assert client.get(ACCESS).status_code == 200
    assert any("apikeys_apikey" in query["sql"] for query in uncached.captured_queries)
    assert _generation() > 10**15  # from the clock, never a value that came before
    client.get(ACCESS)
    with CaptureQueriesContext(connection) as cached:
        assert client.get(ACCESS).status_code == 200
    assert not any("apikeys_apikey" in query["sql"] for query in cached.captured_queries)
