"""The key format: `tether_<kind>_<random 30><checksum 6>`, all base62.

The checksum (CRC32 of everything before it) lets the server — and secret scanners —
reject a mistyped or truncated key without a database lookup. The server keeps only a
SHA-256 of the key (keys are 178 bits of randomness, so a slow hash adds nothing) and a
non-secret lookup prefix.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import zlib
from dataclasses import dataclass
from enum import StrEnum

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_RANDOM_LENGTH = 30
_CHECKSUM_LENGTH = 6
_LOOKUP_LENGTH = 12
_PATTERN = re.compile(r"^tether_(pat|sa|run)_([0-9A-Za-z]{36})$")


class KeyKind(StrEnum):
    PERSONAL = "pat"
    SERVICE_ACCOUNT = "sa"
    RUN = "run"


@dataclass(frozen=True)
class ParsedKey:
    kind: KeyKind
    lookup_prefix: str
    token: str


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, remainder = divmod(number, 62)
        digits.append(_ALPHABET[remainder])
    return "".join(reversed(digits))


def _checksum(head: str) -> str:
    return _base62(zlib.crc32(head.encode("ascii")), _CHECKSUM_LENGTH)


def generate_key(kind: KeyKind) -> str:
    random_part = "".join(secrets.choice(_ALPHABET) for _ in range(_RANDOM_LENGTH))
    head = f"tether_{kind}_{random_part}"
    return head + _checksum(head)


def parse_key(token: str) -> ParsedKey | None:
    """The key's parts, or None when its shape or checksum is wrong (no database involved)."""
    match = _PATTERN.match(token)
    if match is None:
        return None
    head, checksum = token[:-_CHECKSUM_LENGTH], token[-_CHECKSUM_LENGTH:]
    if not hmac.compare_digest(_checksum(head), checksum):
        return None
    kind = KeyKind(match.group(1))
    return ParsedKey(kind=kind, lookup_prefix=token[: len(f"tether_{kind}_") + _LOOKUP_LENGTH], token=token)


def hash_key(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def matches(token: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_key(token), stored_hash)
