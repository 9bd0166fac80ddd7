"""RELIABILITY 18, 23, 24 for blocks: masked reads, mask round-trip, reveal by role, audit without values."""

from __future__ import annotations

import logging

import pytest

from controlplane.audit.models import AuditEntry
from controlplane.blocks.models import BlockDocument
from tests.controlplane.blocks.support import BLOCK_TYPES, BLOCKS, CANARY, make_block, reveal_url
from tests.support.clients import bearer, session
from tests.support.tenants import World, service_account_key


def _git(world: World, **data: str) -> BlockDocument:
    return make_block(world, "git-credentials", "acme", {"username": "deploy", "password": CANARY, **data})


def test_standard_types_are_listed_with_their_secret_fields(world: World) -> None:
    body = session(world.bob).get(f"{BLOCK_TYPES}/", {"page_size": 100}).json()
    types = {item["slug"]: item for item in body["results"]}
    assert {
        "secret",
        "json",
        "git-credentials",
        "s3-credentials",
        "slack-webhook",
        "webhook",
        "smtp",
        "docker-registry-credentials",
        "kubernetes-cluster-config",
    } <= set(types)
    assert types["slack-webhook"]["secret_fields"] == ["url"]
    assert types["webhook"]["secret_fields"] == ["secret_headers"]
    assert types["git-credentials"]["is_standard"] is True


def test_create_then_read_masks_secrets_everywhere(world: World) -> None:
    alice = session(world.alice)
    response = alice.post(
        f"{BLOCKS}/",
        {"block_type_slug": "git-credentials", "name": "acme", "data": {"username": "deploy", "password": CANARY}},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["data"] == {"username": "deploy", "password": "********"}
    block_id = response.json()["id"]
    for client in (alice, session(world.bob)):
        for url in (f"{BLOCKS}/", f"{BLOCKS}/{block_id}/", f"{BLOCKS}/?block_type_slug=git-credentials&name=acme"):
            read = client.get(url)
            assert read.status_code == 200
            assert CANARY not in read.content.decode()
    detail = session(world.bob).get(f"{BLOCKS}/{block_id}/").json()
    assert detail["data"] == {"username": "deploy", "password": "********"}
    assert detail["block_type"]["slug"] == "git-credentials"


def test_writing_the_mask_back_keeps_the_stored_value(world: World) -> None:
    block = _git(world)
    alice = session(world.alice)
    masked = alice.get(f"{BLOCKS}/{block.pk}/").json()["data"]
    response = alice.patch(f"{BLOCKS}/{block.pk}/", {"data": {**masked, "username": "robot"}}, format="json")
    assert response.status_code == 200, response.content
    revealed = alice.post(reveal_url(block)).json()["data"]
    assert revealed == {"username": "robot", "password": CANARY}
    # A new value replaces it; dropping the field removes it.
    alice.patch(f"{BLOCKS}/{block.pk}/", {"data": {"username": "robot", "password": "new-one"}}, format="json")
    assert alice.post(reveal_url(block)).json()["data"]["password"] == "new-one"


def test_nested_secret_mask_round_trip(world: World) -> None:
    hook = make_block(
        world,
        "webhook",
        "alerts",
        {"url": "https://hooks.example/x", "headers": {"X-Team": "a"}, "secret_headers": {"Authorization": CANARY}},
    )
    alice = session(world.alice)
    masked = alice.get(f"{BLOCKS}/{hook.pk}/").json()["data"]
    assert masked["secret_headers"] == "********"
    assert masked["headers"] == {"X-Team": "a"}
    assert alice.patch(f"{BLOCKS}/{hook.pk}/", {"data": masked}, format="json").status_code == 200
    assert alice.post(reveal_url(hook)).json()["data"]["secret_headers"] == {"Authorization": CANARY}


def test_the_mask_on_create_is_refused(world: World) -> None:
    response = session(world.alice).post(
        f"{BLOCKS}/", {"block_type_slug": "secret", "name": "s", "data": {"value": "********"}}, format="json"
    )
    assert response.status_code == 422
    assert not BlockDocument.dangerously_unscoped.exists()


def test_invalid_data_is_refused_without_echoing_it(world: World) -> None:
    alice = session(world.alice)
    bad = {"block_type_slug": "smtp", "name": "mail", "data": {"host": "smtp.example", "port": CANARY}}
    response = alice.post(f"{BLOCKS}/", bad, format="json")
    assert response.status_code == 422
    assert response.json()["error"]["details"]["data"]["port"]
    assert CANARY not in response.content.decode()
    missing = alice.post(f"{BLOCKS}/", {"block_type_slug": "secret", "name": "s", "data": {}}, format="json")
    assert missing.status_code == 422
    assert "'value' is a required property" in str(missing.json())


def test_duplicate_name_in_a_type_is_a_conflict_and_leaks_nothing(world: World) -> None:
    _git(world)
    response = session(world.alice).post(
        f"{BLOCKS}/",
        {"block_type_slug": "git-credentials", "name": "acme", "data": {"token": CANARY + "-2"}},
        format="json",
    )
    assert response.status_code == 409
    assert CANARY not in response.content.decode()
    # Same name under another type is fine.
    assert make_block(world, "secret", "acme", {"value": "x"}).name == "acme"


@pytest.mark.parametrize(
    ("role", "status"), [("owner", 200), ("worker", 403), ("developer", 403), ("viewer", 403), ("runner", 403)]
)
def test_reveal_by_role(world: World, role: str, status: int) -> None:
    block = _git(world)
    _, secret = service_account_key(world.alice, world.prod, role, name=f"reveal-{role}")
    response = bearer(secret).post(reveal_url(block))
    assert response.status_code == status, response.content
    if status == 200:
        assert response.json()["data"]["password"] == CANARY
        assert response["Cache-Control"] == "no-store"
    else:
        assert response.json()["error"]["code"] == "permission_denied"
        assert CANARY not in response.content.decode()


def test_viewer_session_cannot_reveal_but_reads_masked(world: World) -> None:
    block = _git(world)
    bob = session(world.bob)
    assert bob.post(reveal_url(block)).status_code == 403
    assert bob.get(f"{BLOCKS}/{block.pk}/").json()["data"]["password"] == "********"


def test_every_change_and_reveal_is_audited_without_values(world: World) -> None:
    alice = session(world.alice)
    created = alice.post(
        f"{BLOCKS}/", {"block_type_slug": "secret", "name": "db", "data": {"value": CANARY}}, format="json"
    ).json()
    alice.patch(f"{BLOCKS}/{created['id']}/", {"data": {"value": CANARY + "-v2"}}, format="json")
    alice.post(reveal_url(created["id"]))
    alice.delete(f"{BLOCKS}/{created['id']}/")
    entries = AuditEntry.dangerously_unscoped.filter(target_id=created["id"]).order_by("created_at")
    assert [entry.action for entry in entries] == ["block.created", "block.updated", "block.revealed", "block.deleted"]
    for entry in entries:
        assert entry.workspace_id == world.prod.id
        assert entry.actor_id == world.alice.id
        assert CANARY not in str(entry.changes)
        assert CANARY not in entry.target_label
    assert entries[1].changes == {"fields_changed": ["value"]}
    log = alice.get("/api/v1/orgs/acme/audit-log/")
    assert log.status_code == 200
    assert CANARY not in log.content.decode()
    # The audit log is read-only through the API.
    assert alice.delete(f"/api/v1/orgs/acme/audit-log/{entries[0].pk}/").status_code in (403, 405)


def test_references_resolve_on_reveal_and_must_exist(world: World) -> None:
    token = make_block(world, "secret", "gh-token", {"value": CANARY})
    alice = session(world.alice)
    by_name = {"$ref": {"block_type_slug": "secret", "name": "gh-token"}}
    created = alice.post(
        f"{BLOCKS}/", {"block_type_slug": "git-credentials", "name": "gh", "data": {"token": by_name}}, format="json"
    )
    assert created.status_code == 201, created.content
    assert alice.post(reveal_url(created.json()["id"])).json()["data"] == {"token": CANARY}
    by_id = {"$ref": {"block_document_id": str(token.pk)}}
    hook = alice.post(
        f"{BLOCKS}/",
        {"block_type_slug": "webhook", "name": "h", "data": {"url": "https://x.example", "headers": {"A": by_id}}},
        format="json",
    )
    assert hook.status_code == 201, hook.content
    assert alice.post(reveal_url(hook.json()["id"])).json()["data"]["headers"] == {"A": CANARY}
    dangling = {"$ref": {"block_type_slug": "secret", "name": "missing"}}
    refused = alice.post(
        f"{BLOCKS}/", {"block_type_slug": "git-credentials", "name": "x", "data": {"token": dangling}}, format="json"
    )
    assert refused.status_code == 422


def test_a_reference_to_another_tenants_block_is_refused(world: World) -> None:
    foreign = make_block(world, "secret", "theirs", {"value": CANARY}, workspace=world.umbrella_prod)
    response = session(world.alice).post(
        f"{BLOCKS}/",
        {
            "block_type_slug": "git-credentials",
            "name": "steal",
            "data": {"token": {"$ref": {"block_document_id": str(foreign.pk)}}},
        },
        format="json",
    )
    assert response.status_code == 422
    assert CANARY not in response.content.decode()
    assert not BlockDocument.dangerously_unscoped.filter(name="steal").exists()


def test_custom_block_types(world: World) -> None:
    alice = session(world.alice)
    schema = {
        "type": "object",
        "properties": {"endpoint": {"type": "string"}, "api_key": {"type": "string", "x-secret": True}},
        "required": ["endpoint", "api_key"],
    }
    created = alice.post(f"{BLOCK_TYPES}/", {"slug": "acme-api", "name": "Acme API", "schema": schema}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["secret_fields"] == ["api_key"]
    assert alice.post(f"{BLOCK_TYPES}/", {"slug": "secret", "name": "x"}, format="json").status_code == 409
    bad_schema = {"slug": "bad", "name": "Bad", "schema": {"type": "object", "properties": {"x": {"type": 5}}}}
    assert alice.post(f"{BLOCK_TYPES}/", bad_schema, format="json").status_code == 422
    block = alice.post(
        f"{BLOCKS}/",
        {"block_type_slug": "acme-api", "name": "main", "data": {"endpoint": "https://api", "api_key": CANARY}},
        format="json",
    )
    assert block.json()["data"] == {"endpoint": "https://api", "api_key": "********"}
    # Other workspaces do not see it; a type in use cannot be deleted; standard types are read-only.
    charlie = session(world.charlie)
    assert (
        "acme-api"
        not in charlie.get("/api/v1/orgs/umbrella/workspaces/prod/block-types/?slug=acme-api").content.decode()
    )
    assert alice.delete(f"{BLOCK_TYPES}/{created.json()['id']}/").status_code == 409
    standard = alice.get(f"{BLOCK_TYPES}/?slug=secret").json()["results"][0]
    assert alice.patch(f"{BLOCK_TYPES}/{standard['id']}/", {"name": "Mine"}, format="json").status_code == 403


def test_no_plaintext_in_logs(world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    block = _git(world)
    alice = session(world.alice)
    alice.get(f"{BLOCKS}/{block.pk}/")
    alice.post(reveal_url(block))
    alice.patch(f"{BLOCKS}/{block.pk}/", {"data": {"password": CANARY, "username": 5}}, format="json")
    assert CANARY not in caplog.text
    assert CANARY not in repr(block)
    assert CANARY not in str(block)


def test_fields_the_schema_no_longer_declares_stay_masked(world: World) -> None:
    alice = session(world.alice)
    schema = {"type": "object", "properties": {"host": {"type": "string"}, "key": {"type": "string", "x-secret": True}}}
    created = alice.post(f"{BLOCK_TYPES}/", {"slug": "legacy", "name": "Legacy", "schema": schema}, format="json")
    block = alice.post(
        f"{BLOCKS}/", {"block_type_slug": "legacy", "name": "l", "data": {"host": "h", "key": CANARY}}, format="json"
    ).json()
    # The secret property is dropped from the schema: its stored value must not turn readable.
    new_schema = {"type": "object", "properties": {"host": {"type": "string"}}}
    alice.patch(f"{BLOCK_TYPES}/{created.json()['id']}/", {"schema": new_schema}, format="json")
    detail = session(world.bob).get(f"{BLOCKS}/{block['id']}/")
    assert detail.json()["data"] == {"host": "h", "key": "********"}
    assert CANARY not in detail.content.decode()
    # Writing the mask back still keeps it.
    assert alice.patch(f"{BLOCKS}/{block['id']}/", {"data": detail.json()["data"]}, format="json").status_code == 200
    assert alice.post(reveal_url(block["id"])).json()["data"]["key"] == CANARY
