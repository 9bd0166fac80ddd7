"""Envelope encryption primitives: bound to workspace, document and field; tamper-evident; no key in reprs."""

from __future__ import annotations

import uuid

import pytest

from controlplane.blocks.crypto import (
    DecryptionFailed,
    decrypt_field,
    encrypt_field,
    new_data_key,
    unwrap_data_key,
    wrap_data_key,
)
from controlplane.blocks.keyring import MasterKeyError, generate_master_key, parse_master_keys

WS, OTHER_WS, DOC, OTHER_DOC = (uuid.uuid4() for _ in range(4))


def _sealed(value: object = "hunter2") -> tuple[bytes, str]:
    key = new_data_key()
    return key, encrypt_field(key, value, workspace_id=WS, document_id=DOC, field_path="password")


def test_round_trip_any_json_value() -> None:
    for value in ("hunter2", {"Authorization": "Bearer x"}, [1, 2], None, 3.5):
        key, token = _sealed(value)
        assert decrypt_field(key, token, workspace_id=WS, document_id=DOC, field_path="password") == value


@pytest.mark.parametrize(
    "binding",
    [
        {"workspace_id": OTHER_WS, "document_id": DOC, "field_path": "password"},
        {"workspace_id": WS, "document_id": OTHER_DOC, "field_path": "password"},
        {"workspace_id": WS, "document_id": DOC, "field_path": "token"},
    ],
    ids=["other-workspace", "other-document", "other-field"],
)
def test_ciphertext_fails_anywhere_else(binding: dict[str, object]) -> None:
    key, token = _sealed()
    with pytest.raises(DecryptionFailed) as raised:
        decrypt_field(key, token, **binding)  # type: ignore[arg-type]
    assert "hunter2" not in str(raised.value)


def test_every_single_bit_flip_is_detected() -> None:
    import base64

    key, token = _sealed()
    raw = bytearray(base64.urlsafe_b64decode(token[3:]))
    for bit in range(0, len(raw) * 8, 7):
        flipped = bytearray(raw)
        flipped[bit // 8] ^= 1 << (bit % 8)
        forged = "v1." + base64.urlsafe_b64encode(bytes(flipped)).decode()
        with pytest.raises(DecryptionFailed):
            decrypt_field(key, forged, workspace_id=WS, document_id=DOC, field_path="password")


@pytest.mark.parametrize("garbage", ["", "v1.", "v1.!!!", "hunter2", 42, None, {"v": 1}])
def test_garbage_is_a_decryption_error(garbage: object) -> None:
    with pytest.raises(DecryptionFailed):
        decrypt_field(new_data_key(), garbage, workspace_id=WS, document_id=DOC, field_path="password")


def test_wrapped_data_key_is_bound_to_its_workspace_and_master_key() -> None:
    ring = parse_master_keys(f"{generate_master_key('new')},{generate_master_key('old')}")
    data_key = new_data_key()
    wrapped = wrap_data_key(ring.current, data_key, workspace_id=WS)
    assert data_key not in wrapped
    assert unwrap_data_key(ring.current, wrapped, workspace_id=WS) == data_key
    with pytest.raises(DecryptionFailed):
        unwrap_data_key(ring.current, wrapped, workspace_id=OTHER_WS)
    with pytest.raises(DecryptionFailed):
        unwrap_data_key(ring.keys[1], wrapped, workspace_id=WS)


def test_keyring_order_and_reprs_hide_material() -> None:
    first, second = generate_master_key("k2"), generate_master_key("k1")
    ring = parse_master_keys(f" {first} , {second} ")
    assert ring.key_ids == ["k2", "k1"]
    assert ring.current.key_id == "k2"
    material = first.split(":", 1)[1]
    assert material not in repr(ring)
    assert material not in repr(ring.current)


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("", "holds no key"),
        ("nocolon", "key_id:base64url"),
        ("a:c2hvcnQ", "32 bytes"),
        ("a:@@@@", "base64url"),
        ("a:" + "A" * 43 + ",a:" + "B" * 43, "twice"),
    ],
)
def test_malformed_keys_are_refused_without_echoing_material(raw: str, fragment: str) -> None:
    with pytest.raises(MasterKeyError) as raised:
        parse_master_keys(raw)
    assert fragment in str(raised.value)
    for secret in ("c2hvcnQ", "@@@@", "A" * 43):
        assert secret not in str(raised.value)
