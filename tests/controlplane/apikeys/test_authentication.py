"""RELIABILITY 1-4: bad keys all get the same 401; nothing secret is ever stored or returned."""

from __future__ import annotations

import subprocess
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from controlplane.apikeys.models import ApiKey
from controlplane.apikeys.services import api_key_create
from controlplane.apikeys.tokens import parse_key
from tests.support.clients import bearer, session
from tests.support.tenants import World, actor_for, personal_key, service_account_key

ACCESS = "/api/v1/orgs/acme/workspaces/prod/access/"


def _key_row(secret: str) -> ApiKey:
    parsed = parse_key(secret)
    assert parsed is not None
    key: ApiKey = ApiKey.dangerously_unscoped.get(prefix=parsed.lookup_prefix)
    return key


def _assert_invalid(response: Any) -> None:
    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "authentication_failed",
        "message": "Invalid, expired or revoked API key.",
        "details": {},
    }
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_valid_service_account_key_works(world: World) -> None:
    _, secret = service_account_key(world.alice, world.prod, "worker")
    response = bearer(secret).get(ACCESS)
    assert response.status_code == 200
    assert response.json()["role"] == "worker"


def test_missing_credentials_answer_401(world: World, api_client: Any) -> None:
    response = api_client.get(ACCESS)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_revoked_expired_and_garbled_keys_get_the_same_401(world: World) -> None:
    _, revoked = service_account_key(world.alice, world.prod, "worker", name="revoked")
    _key_row(revoked).__class__.dangerously_unscoped.filter(pk=_key_row(revoked).pk).update(revoked_at=timezone.now())
    _, expired = service_account_key(world.alice, world.prod, "worker", name="expired")
    ApiKey.dangerously_unscoped.filter(pk=_key_row(expired).pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    _, valid = service_account_key(world.alice, world.prod, "worker", name="valid")
    unknown = valid[:-12] + ("A" * 6) + valid[-6:]  # well-formed shape, wrong checksum
    for token in (revoked, expired, "tether_sa_garbage", unknown, valid + "x"):
        _assert_invalid(bearer(token).get(ACCESS))
    for token in (revoked, expired):
        assert _key_row(token).last_used_at is None


def test_bad_checksum_is_rejected_before_any_query(world: World, django_assert_num_queries: Any) -> None:
    _, valid = service_account_key(world.alice, world.prod, "worker")
    typo = valid[:-1] + ("A" if valid[-1] != "A" else "B")
    client = bearer(typo)
    with django_assert_num_queries(0):
        response = client.get(ACCESS)
    _assert_invalid(response)


def test_last_used_at_is_written_at_most_once_a_minute(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    _, secret = service_account_key(world.alice, world.prod, "worker")
    client = bearer(secret)
    client.get(ACCESS)
    first = _key_row(secret).last_used_at
    assert first is not None
    client.get(ACCESS)
    assert _key_row(secret).last_used_at == first
    later = first + timedelta(minutes=2)
    monkeypatch.setattr(timezone, "now", lambda: later)
    client.get(ACCESS)
    assert _key_row(secret).last_used_at == later


def test_deactivated_service_account_key_stops_working(world: World) -> None:
    account, secret = service_account_key(world.alice, world.prod, "worker")
    account.is_active = False
    account.save(update_fields=["is_active"])
    _assert_invalid(bearer(secret).get(ACCESS))


def test_key_of_another_org_or_workspace_answers_404(world: World) -> None:
    _, charlie_key = service_account_key(world.charlie, world.umbrella_prod, "developer")
    assert bearer(charlie_key).get(ACCESS).status_code == 404
    staging_only = personal_key(world.alice, world.acme, workspace=world.staging)
    assert bearer(staging_only).get(ACCESS).status_code == 404
    assert bearer(staging_only).get("/api/v1/orgs/acme/workspaces/staging/access/").status_code == 200


def test_key_scopes_narrow_the_role(world: World) -> None:
    narrow = personal_key(world.alice, world.acme, scopes=["workspace:read"])
    body = bearer(narrow).get(ACCESS).json()
    assert body["role"] == "owner"
    assert body["scopes"] == ["workspace:read"]
    assert (
        bearer(narrow).post("/api/v1/orgs/acme/workspaces/prod/variables/", {"name": "x", "value": 1}).status_code
        == 403
    )


def test_key_cannot_carry_scopes_its_owner_lacks(world: World) -> None:
    from controlplane.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed, match="does not hold"):
        api_key_create(
            actor=actor_for(world.bob), organization=world.acme, name="x", user=world.bob, scopes=["blocks:reveal"]
        )


def test_listing_keys_never_shows_a_secret_or_hash(world: World) -> None:
    secret = personal_key(world.alice, world.acme)
    key = _key_row(secret)
    response = session(world.alice).get("/api/v1/orgs/acme/api-keys/")
    assert response.status_code == 200
    text = response.content.decode()
    assert secret not in text
    assert key.secret_hash not in text
    assert secret[len(key.prefix) :] not in text
    (item,) = response.json()["results"]
    assert item["prefix"] == key.prefix
    assert "secret" not in item


@pytest.mark.django_db(transaction=True)
def test_database_dump_contains_no_key_secret(world: World) -> None:
    secrets = [personal_key(world.alice, world.acme), service_account_key(world.alice, world.prod, "worker")[1]]
    settings_dict = connection.settings_dict
    dump = subprocess.run(
        [
            "pg_dump",
            "-h",
            settings_dict["HOST"] or "127.0.0.1",
            "-U",
            settings_dict["USER"] or "postgres",
            settings_dict["NAME"],
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    assert "tether_pat_" in dump or "api_key" in dump  # the dump really has the key table
    for secret in secrets:
        assert secret not in dump
        assert secret[-30:] not in dump
