"""Master keys (KEKs): parsed from `TETHER_MASTER_KEYS`, never stored in the database.

The value is a comma-separated list of `key_id:base64url(32 bytes)`, newest first. The first
key wraps new data keys; the others only unwrap data keys not yet re-wrapped by
`rotate_master_key`. This module has no Django imports so settings can validate the value
at start-up. Error messages name key ids and positions, never key material.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

KEY_BYTES = 32
_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class MasterKeyError(ValueError):
    """`TETHER_MASTER_KEYS` is malformed (the message never contains key material)."""


@dataclass(frozen=True)
class MasterKey:
    key_id: str
    material: bytes = field(repr=False)

    def __repr__(self) -> str:
        return f"MasterKey(key_id={self.key_id!r})"


@dataclass(frozen=True)
class Keyring:
    """The configured master keys, newest (current) first."""

    keys: tuple[MasterKey, ...]

    @property
    def current(self) -> MasterKey:
        return self.keys[0]

    def get(self, key_id: str) -> MasterKey | None:
        return next((key for key in self.keys if key.key_id == key_id), None)

    @property
    def key_ids(self) -> list[str]:
        return [key.key_id for key in self.keys]


def _decode(encoded: str, position: int, key_id: str) -> bytes:
    padded = encoded + "=" * (-len(encoded) % 4)
    try:
        material = base64.b64decode(padded.encode("ascii"), altchars=b"-_", validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise MasterKeyError(f"key {position} ({key_id!r}) is not valid base64url") from None
    if len(material) != KEY_BYTES:
        raise MasterKeyError(f"key {position} ({key_id!r}) must decode to {KEY_BYTES} bytes, not {len(material)}")
    return material


def parse_master_keys(raw: str) -> Keyring:
    """Parse `id:base64url,id:base64url,…` (newest first) into a Keyring."""
    entries = [entry.strip() for entry in raw.replace("\n", ",").split(",") if entry.strip()]
    if not entries:
        raise MasterKeyError("holds no key; generate one with `python manage.py generate_master_key`")
    keys: list[MasterKey] = []
    for position, entry in enumerate(entries, start=1):
        key_id, sep, encoded = entry.partition(":")
        key_id = key_id.strip()
        if not sep or not _KEY_ID.match(key_id):
            raise MasterKeyError(f"key {position} must look like key_id:base64url (id of letters, digits, . _ -)")
        if any(existing.key_id == key_id for existing in keys):
            raise MasterKeyError(f"key id {key_id!r} appears twice")
        keys.append(MasterKey(key_id=key_id, material=_decode(encoded.strip(), position, key_id)))
    return Keyring(keys=tuple(keys))


def generate_master_key(key_id: str | None = None) -> str:
    """A new `key_id:base64url(32 random bytes)` entry (the id defaults to a date-free random tag)."""
    key_id = key_id or f"k{secrets.token_hex(4)}"
    if not _KEY_ID.match(key_id):
        raise MasterKeyError("a key id is 1-64 letters, digits, '.', '_' or '-'")
    encoded = base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii").rstrip("=")
    return f"{key_id}:{encoded}"


def read_or_create_master_key_file(path: Path) -> tuple[str, bool]:
    """Embedded mode: the key file's content, creating it (0600) on first use. Returns (value, created)."""
    try:
        return path.read_text(encoding="utf-8").strip(), False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    value = generate_master_key("embedded-1")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip(), False
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    return value, True
