"""RELIABILITY 19, 20: ciphertexts moved between rows, fields or tenants, or with one bit flipped,
fail to decrypt with a clear error; never plaintext, never a 500, nothing in the logs."""

from __future__ import annotations

import base64
import logging

import pytest

from controlplane.blocks.models import BlockDocument, WorkspaceDataKey
from tests.controlplane.blocks.support import BLOCKS, CANARY, make_block, reveal_url
from tests.support.clients import session
from tests.support.tenants import World


def _assert_refused(world: World, block: BlockDocument, caplog: pytest.LogCaptureFixture) -> None:
    alice = session(world.alice)
    response = alice.post(reveal_url(block))
    assert response.status_code == 409, response.content
    assert response.json()["error"]["code"] == "block_undecryptable"
    assert CANARY not in response.content.decode()
    assert CANARY not in caplog.text
    # Reads still work (secret fields are never decrypted for them); updates refuse to build on it.
    assert alice.get(f"{BLOCKS}/{block.pk}/").status_code == 200
    assert alice.patch(f"{BLOCKS}/{block.pk}/", {"data": {"value": "********"}}, format="json").status_code == 409


def _copy_values(source: BlockDocument, target: BlockDocument) -> None:
    BlockDocument.dangerously_unscoped.filter(pk=target.pk).update(values=source.values)


def test_ciphertext_copied_to_another_row_of_the_same_workspace(world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    victim = make_block(world, "secret", "victim", {"value": CANARY})
    mine = make_block(world, "secret", "mine", {"value": "mine"})
    _copy_values(victim, mine)
    _assert_refused(world, mine, caplog)


def test_ciphertext_copied_to_another_field(world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    block = make_block(world, "git-credentials", "g", {"username": "u", "password": CANARY})
    values = dict(block.values)
    values["username"] = values["password"]
    BlockDocument.dangerously_unscoped.filter(pk=block.pk).update(values=values)
    response = session(world.alice).post(reveal_url(block))
    assert response.status_code == 409
    assert CANARY not in response.content.decode()
    assert CANARY not in caplog.text
    # The moved ciphertext does not decrypt even for a masked read of the non-secret field.
    detail = session(world.alice).get(f"{BLOCKS}/{block.pk}/").json()
    assert detail["undecryptable_fields"] == ["username"]
    assert CANARY not in str(detail)


def test_ciphertext_copied_to_another_workspace(world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    theirs = make_block(world, "secret", "theirs", {"value": CANARY}, workspace=world.umbrella_prod)
    mine = make_block(world, "secret", "mine", {"value": "mine"})
    _copy_values(theirs, mine)
    _assert_refused(world, mine, caplog)


def test_ciphertext_and_data_key_copied_to_another_workspace(world: World, caplog: pytest.LogCaptureFixture) -> None:
    """Even an attacker who copies the wrapped data key along with the ciphertext gets nothing."""
    caplog.set_level(logging.DEBUG)
    theirs = make_block(world, "secret", "theirs", {"value": CANARY}, workspace=world.umbrella_prod)
    mine = make_block(world, "secret", "mine", {"value": "mine"})
    _copy_values(theirs, mine)
    their_key = WorkspaceDataKey.dangerously_unscoped.get(workspace=world.umbrella_prod)
    WorkspaceDataKey.dangerously_unscoped.filter(workspace=world.prod).update(wrapped_key=their_key.wrapped_key)
    response = session(world.alice).post(reveal_url(mine))
    assert response.status_code == 409
    assert CANARY not in response.content.decode()
    assert CANARY not in caplog.text


def test_one_flipped_bit(world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    block = make_block(world, "secret", "s", {"value": CANARY})
    token = block.values["value"]
    raw = bytearray(base64.urlsafe_b64decode(token[3:]))
    raw[len(raw) // 2] ^= 0x01
    BlockDocument.dangerously_unscoped.filter(pk=block.pk).update(
        values={"value": "v1." + base64.urlsafe_b64encode(bytes(raw)).decode()}
    )
    _assert_refused(world, block, caplog)


def test_a_flipped_bit_in_the_wrapped_data_key(world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    block = make_block(world, "secret", "s", {"value": CANARY})
    row = WorkspaceDataKey.dangerously_unscoped.get(workspace=world.prod)
    wrapped = bytearray(bytes(row.wrapped_key))
    wrapped[-1] ^= 0x80
    WorkspaceDataKey.dangerously_unscoped.filter(pk=row.pk).update(wrapped_key=bytes(wrapped))
    response = session(world.alice).post(reveal_url(block))
    assert response.status_code == 409
    assert CANARY not in response.content.decode()
    assert CANARY not in caplog.text
