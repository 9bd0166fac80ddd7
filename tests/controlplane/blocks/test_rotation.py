"""RELIABILITY 21: master-key rotation interrupted midway and re-run completes; every block still
reveals; the old master key can then be dropped. Data-key rotation re-encrypts one workspace."""

from __future__ import annotations

import io
import uuid

import pytest
from django.core.management import call_command
from pytest_django.fixtures import Settings

from controlplane.blocks import datakeys
from controlplane.blocks.keyring import generate_master_key
from controlplane.blocks.models import BlockDocument, WorkspaceDataKey
from controlplane.core.tenancy import tenant_scope
from controlplane.orgs.models import Workspace
from tests.controlplane.blocks.support import CANARY, make_block, reveal_url
from tests.support.clients import session
from tests.support.tenants import World, actor_for, make_org

OLD = generate_master_key("old")
NEW = generate_master_key("new")


def _workspaces_with_blocks(world: World, count: int) -> list[tuple[Workspace, BlockDocument]]:
    _, workspaces = make_org(world.alice, "many", *(f"ws{i}" for i in range(count)))
    return [
        (workspace, make_block(world, "secret", "s", {"value": f"{CANARY}-{i}"}, workspace=workspace))
        for i, workspace in enumerate(workspaces)
    ]


def _reveal(world: World, workspace: Workspace, block: BlockDocument) -> object:
    from controlplane.blocks.services import block_document_reveal

    with tenant_scope(organization_id=workspace.organization_id, workspace_id=workspace.id):
        document = BlockDocument.objects.get(pk=block.pk)
        return block_document_reveal(actor=actor_for(world.alice), document=document)


def _rotate(*args: str) -> str:
    out = io.StringIO()
    call_command("rotate_master_key", *args, stdout=out)
    return out.getvalue()


def test_interrupted_rotation_resumes_and_the_old_key_can_then_be_dropped(world: World, settings: Settings) -> None:
    settings.TETHER_MASTER_KEYS = OLD
    blocks = _workspaces_with_blocks(world, 7)
    assert set(datakeys.data_keys_by_master_key()) == {"old"}

    settings.TETHER_MASTER_KEYS = f"{NEW},{OLD}"
    assert "re-wrapped 3 data keys under 'new'; 4 remaining" in _rotate("--limit", "3", "--batch-size", "2")
    # Mid-rotation, every block reveals (some keys under old, some under new).
    for i, (workspace, block) in enumerate(blocks):
        assert _reveal(world, workspace, block) == {"value": f"{CANARY}-{i}"}

    assert "re-wrapped 4 data keys under 'new'; 0 remaining" in _rotate("--batch-size", "2")
    assert "re-wrapped 0 data keys under 'new'; 0 remaining" in _rotate()  # safe to run twice
    assert datakeys.data_keys_by_master_key() == {"new": 7}

    settings.TETHER_MASTER_KEYS = NEW  # the old key is gone
    for i, (workspace, block) in enumerate(blocks):
        assert _reveal(world, workspace, block) == {"value": f"{CANARY}-{i}"}


def test_rotation_killed_by_a_failure_midway_then_rerun(
    world: World, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.TETHER_MASTER_KEYS = OLD
    blocks = _workspaces_with_blocks(world, 5)
    settings.TETHER_MASTER_KEYS = f"{NEW},{OLD}"
    done: list[uuid.UUID] = []

    def crash_after_two(workspace_id: uuid.UUID) -> None:
        done.append(workspace_id)
        if len(done) == 3:
            raise KeyboardInterrupt  # the process dies inside the third batch

    with pytest.raises(KeyboardInterrupt):
        datakeys.master_key_rotate(batch_size=1, on_rewrapped=crash_after_two)
    # The batch that died rolled back; the two committed batches stay re-wrapped.
    assert datakeys.data_keys_by_master_key() == {"new": 2, "old": 3}
    report = datakeys.master_key_rotate(batch_size=1)
    assert (report.rewrapped, report.remaining) == (3, 0)
    settings.TETHER_MASTER_KEYS = NEW
    for i, (workspace, block) in enumerate(blocks):
        assert _reveal(world, workspace, block) == {"value": f"{CANARY}-{i}"}


def test_a_data_key_under_a_dropped_master_key_is_a_clear_error(world: World, settings: Settings) -> None:
    settings.TETHER_MASTER_KEYS = OLD
    block = make_block(world, "secret", "s", {"value": CANARY})
    settings.TETHER_MASTER_KEYS = NEW  # dropped before rotating
    response = session(world.alice).post(reveal_url(block))
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "encryption_unavailable"
    assert CANARY not in response.content.decode()


def test_new_data_keys_use_the_newest_master_key(world: World, settings: Settings) -> None:
    settings.TETHER_MASTER_KEYS = f"{NEW},{OLD}"
    make_block(world, "secret", "s", {"value": CANARY})
    assert WorkspaceDataKey.dangerously_unscoped.get(workspace=world.prod).master_key_id == "new"


def test_data_key_rotation_reencrypts_the_workspace(world: World) -> None:
    first = make_block(world, "secret", "a", {"value": CANARY})
    second = make_block(world, "git-credentials", "b", {"username": "u", "token": CANARY + "-t"})
    other = make_block(world, "secret", "c", {"value": "other"}, workspace=world.staging)
    before = {pk: BlockDocument.dangerously_unscoped.get(pk=pk).values for pk in (first.pk, second.pk, other.pk)}
    old_key = WorkspaceDataKey.dangerously_unscoped.get(workspace=world.prod)

    out = io.StringIO()
    call_command("rotate_data_key", "--workspace", "acme/prod", stdout=out)
    assert "re-encrypted 2 blocks" in out.getvalue()

    new_key = WorkspaceDataKey.dangerously_unscoped.get(workspace=world.prod)
    assert new_key.generation == old_key.generation + 1
    assert bytes(new_key.wrapped_key) != bytes(old_key.wrapped_key)
    for block in (first, second):
        assert BlockDocument.dangerously_unscoped.get(pk=block.pk).values != before[block.pk]
    assert BlockDocument.dangerously_unscoped.get(pk=other.pk).values == before[other.pk]
    assert _reveal(world, world.prod, first) == {"value": CANARY}
    assert _reveal(world, world.prod, second) == {"username": "u", "token": CANARY + "-t"}
    # An old ciphertext does not decrypt under the new data key.
    BlockDocument.dangerously_unscoped.filter(pk=first.pk).update(values=before[first.pk])
    assert session(world.alice).post(reveal_url(first)).status_code == 409


def test_generate_master_key_prints_a_usable_key() -> None:
    from controlplane.blocks.keyring import parse_master_keys

    out = io.StringIO()
    call_command("generate_master_key", "--id", "2026-11", stdout=out)
    ring = parse_master_keys(out.getvalue().strip())
    assert ring.current.key_id == "2026-11"
    assert len(ring.current.material) == 32
