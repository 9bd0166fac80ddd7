from __future__ import annotations

import pytest

from controlplane.apikeys.tokens import KeyKind, generate_key, hash_key, matches, parse_key


@pytest.mark.parametrize("kind", list(KeyKind))
def test_generated_keys_parse(kind: KeyKind) -> None:
    key = generate_key(kind)
    assert key.startswith(f"tether_{kind}_")
    parsed = parse_key(key)
    assert parsed is not None
    assert parsed.kind == kind
    assert key.startswith(parsed.lookup_prefix)
    assert len(parsed.lookup_prefix) == len(f"tether_{kind}_") + 12


def test_keys_are_unique() -> None:
    assert len({generate_key(KeyKind.SERVICE_ACCOUNT) for _ in range(1000)}) == 1000


def test_any_single_character_typo_fails_the_checksum() -> None:
    key = generate_key(KeyKind.PERSONAL)
    body_start = len("tether_pat_")
    for index in range(body_start, len(key)):
        replacement = "a" if key[index] != "a" else "b"
        typo = key[:index] + replacement + key[index + 1 :]
        assert parse_key(typo) is None, f"typo at {index} passed the checksum"


@pytest.mark.parametrize(
    "token",
    ["", "tether_pat_", "tether_xyz_" + "a" * 36, "tether_pat_" + "a" * 35, "tether_pat_" + "!" * 36, "Bearer x"],
)
def test_malformed_keys_are_rejected(token: str) -> None:
    assert parse_key(token) is None


def test_hash_matches_only_the_same_key() -> None:
    key = generate_key(KeyKind.SERVICE_ACCOUNT)
    other = generate_key(KeyKind.SERVICE_ACCOUNT)
    assert matches(key, hash_key(key))
    assert not matches(other, hash_key(key))
    assert key not in hash_key(key)
