"""RELIABILITY 3: reading a created key shows what identifies it (id, name, prefix), never its secret or hash.

Checked on every read path for both kinds of key: the personal list and detail, and a
service account's list and detail. The allowed fields are pinned, so a field added later
has to be looked at here before it ships.
"""

from __future__ import annotations

from controlplane.apikeys.models import ApiKey
from controlplane.apikeys.services import api_key_create
from controlplane.orgs.services.service_accounts import service_account_create
from tests.support.clients import session
from tests.support.tenants import World, actor_for

READABLE = {
    "id",
    "name",
    "prefix",
    "workspace",
    "scopes",
    "expires_at",
    "last_used_at",
    "revoked_at",
    "status",
    "created_at",
}


def _assert_shows_no_secret(text: str, item: dict[str, object], key: ApiKey, secret: str) -> None:
    assert set(item) == READABLE
    assert (item["id"], item["name"], item["prefix"]) == (str(key.pk), key.name, key.prefix)
    assert secret not in text
    assert secret[len(key.prefix) :] not in text  # nor the part of it that is not printed anyway
    assert secret[-12:] not in text
    assert key.secret_hash not in text
    assert key.secret_hash[:16] not in text


def test_reads_of_personal_and_service_account_keys_show_only_identifying_fields(world: World) -> None:
    alice = session(world.alice)
    actor = actor_for(world.alice)
    personal, personal_secret = api_key_create(
        actor=actor, organization=world.acme, name="laptop", user=world.alice, workspace=world.prod
    )
    account = service_account_create(actor=actor, organization=world.acme, name="ci")
    robot, robot_secret = api_key_create(actor=actor, organization=world.acme, name="ci", service_account=account)

    reads = [
        (personal, personal_secret, "/api/v1/orgs/acme/api-keys/"),
        (robot, robot_secret, f"/api/v1/orgs/acme/service-accounts/{account.pk}/api-keys/"),
    ]
    for key, secret, collection in reads:
        listed = alice.get(collection)
        assert listed.status_code == 200
        (item,) = listed.json()["results"]
        _assert_shows_no_secret(listed.content.decode(), item, key, secret)

        detail = alice.get(f"{collection}{key.pk}/")
        assert detail.status_code == 200
        _assert_shows_no_secret(detail.content.decode(), detail.json(), key, secret)

    # Revoking answers nothing, and the revoked key reads the same way.
    assert alice.delete(f"/api/v1/orgs/acme/api-keys/{personal.pk}/").status_code == 204
    detail = alice.get(f"/api/v1/orgs/acme/api-keys/{personal.pk}/")
    personal.refresh_from_db()
    _assert_shows_no_secret(detail.content.decode(), detail.json(), personal, personal_secret)
    assert detail.json()["status"] == "revoked"
