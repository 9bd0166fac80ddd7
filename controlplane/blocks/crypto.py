"""Envelope encryption for block data: AES-256-GCM throughout.

- A **data key** (32 random bytes) per workspace is stored *wrapped*: AES-GCM under a master
  key, with associated data naming the workspace and the master key id, so a wrapped key
  copied onto another workspace's row does not unwrap.
- Each **block field** is encrypted under its workspace's data key, with associated data
  binding the workspace id, the block document id and the field path. A ciphertext copied
  onto another row, field or workspace — or with one bit flipped — fails authentication and
  raises `DecryptionFailed`; plaintext is never returned for it.

Ciphertexts are text: `v1.` + base64url(12-byte nonce ‖ ciphertext ‖ 16-byte tag).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import uuid
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from controlplane.blocks.keyring import KEY_BYTES, MasterKey

_NONCE_BYTES = 12
_FIELD_PREFIX = "v1."


class BlockCryptoError(Exception):
    """Base of the encryption errors. Messages name ids, never values or key material."""


class DecryptionFailed(BlockCryptoError):
    """A ciphertext did not authenticate: tampered, corrupted, or copied from elsewhere."""


class MasterKeyUnavailable(BlockCryptoError):
    """A data key is wrapped by a master key that is no longer configured."""


def new_data_key() -> bytes:
    return os.urandom(KEY_BYTES)


def _wrap_aad(workspace_id: uuid.UUID, key_id: str) -> bytes:
    return b"tether/data-key/v1\x00" + str(workspace_id).encode() + b"\x00" + key_id.encode()


def _field_aad(workspace_id: uuid.UUID, document_id: uuid.UUID, field_path: str) -> bytes:
    return (
        b"tether/block-field/v1\x00"
        + str(workspace_id).encode()
        + b"\x00"
        + str(document_id).encode()
        + b"\x00"
        + field_path.encode()
    )


def wrap_data_key(master: MasterKey, data_key: bytes, *, workspace_id: uuid.UUID) -> bytes:
    nonce = os.urandom(_NONCE_BYTES)
    return nonce + AESGCM(master.material).encrypt(nonce, data_key, _wrap_aad(workspace_id, master.key_id))


def unwrap_data_key(master: MasterKey, wrapped: bytes, *, workspace_id: uuid.UUID) -> bytes:
    nonce, body = wrapped[:_NONCE_BYTES], wrapped[_NONCE_BYTES:]
    try:
        data_key = AESGCM(master.material).decrypt(nonce, body, _wrap_aad(workspace_id, master.key_id))
    except (InvalidTag, ValueError):
        raise DecryptionFailed(
            f"the data key of workspace {workspace_id} does not unwrap with master key {master.key_id!r}"
        ) from None
    if len(data_key) != KEY_BYTES:
        raise DecryptionFailed(f"the data key of workspace {workspace_id} has the wrong length")
    return data_key


def encrypt_field(
    data_key: bytes, value: Any, *, workspace_id: uuid.UUID, document_id: uuid.UUID, field_path: str
) -> str:
    """Encrypt one field's JSON value; the result decrypts only for this workspace, document and path."""
    plaintext = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(data_key).encrypt(nonce, plaintext, _field_aad(workspace_id, document_id, field_path))
    return _FIELD_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def decrypt_field(
    data_key: bytes, token: Any, *, workspace_id: uuid.UUID, document_id: uuid.UUID, field_path: str
) -> Any:
    failure = DecryptionFailed(f"field {field_path!r} of block {document_id} does not decrypt")
    if not isinstance(token, str) or not token.startswith(_FIELD_PREFIX):
        raise failure
    try:
        raw = base64.urlsafe_b64decode(token[len(_FIELD_PREFIX) :].encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise failure from None
    nonce, sealed = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
    try:
        plaintext = AESGCM(data_key).decrypt(nonce, sealed, _field_aad(workspace_id, document_id, field_path))
    except (InvalidTag, ValueError):
        raise failure from None
    return json.loads(plaintext.decode("utf-8"))
