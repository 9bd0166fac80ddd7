from __future__ import annotations

from pathlib import Path

import pytest

from controlplane.settings.env import EnvError, env_bool, env_int, env_list, env_secret, env_str


def test_env_str_returns_value_or_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T_STR", "  hello ")
    assert env_str("T_STR") == "hello"
    monkeypatch.delenv("T_STR")
    assert env_str("T_STR", "fallback") == "fallback"


def test_env_str_missing_required_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("T_REQUIRED", raising=False)
    with pytest.raises(EnvError, match=r"^T_REQUIRED is required but not set$"):
        env_str("T_REQUIRED")


def test_env_str_blank_counts_as_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T_BLANK", "   ")
    with pytest.raises(EnvError, match="T_BLANK"):
        env_str("T_BLANK")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("true", True), ("YES", True), ("on", True), ("0", False), ("false", False), ("Off", False)],
)
def test_env_bool_parses_common_spellings(monkeypatch: pytest.MonkeyPatch, raw: str, expected: bool) -> None:
    monkeypatch.setenv("T_BOOL", raw)
    assert env_bool("T_BOOL", not expected) is expected


def test_env_bool_rejects_garbage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T_BOOL", "maybe")
    with pytest.raises(EnvError, match="T_BOOL must be a boolean"):
        env_bool("T_BOOL", False)


def test_env_bool_default_when_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("T_BOOL", raising=False)
    assert env_bool("T_BOOL", True) is True


def test_env_int_parses_and_checks_minimum(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T_INT", "42")
    assert env_int("T_INT", 1) == 42
    monkeypatch.setenv("T_INT", "forty")
    with pytest.raises(EnvError, match="T_INT must be an integer, got 'forty'"):
        env_int("T_INT", 1)
    monkeypatch.setenv("T_INT", "0")
    with pytest.raises(EnvError, match="T_INT must be at least 1"):
        env_int("T_INT", 5, minimum=1)


def test_env_list_splits_and_trims(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T_LIST", " a.example, b.example ,, ")
    assert env_list("T_LIST") == ["a.example", "b.example"]
    monkeypatch.delenv("T_LIST")
    assert env_list("T_LIST", ["x"]) == ["x"]


def test_env_secret_reads_from_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text("s3cr3t-value\n")
    monkeypatch.delenv("T_SECRET", raising=False)
    monkeypatch.setenv("T_SECRET_FILE", str(secret_file))
    assert env_secret("T_SECRET") == "s3cr3t-value"


def test_env_secret_refuses_both_sources(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text("from-file")
    monkeypatch.setenv("T_SECRET", "direct")
    monkeypatch.setenv("T_SECRET_FILE", str(secret_file))
    with pytest.raises(EnvError, match="set only one of T_SECRET and T_SECRET_FILE"):
        env_secret("T_SECRET")


def test_env_secret_unreadable_or_empty_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("T_SECRET", raising=False)
    monkeypatch.setenv("T_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(EnvError, match="cannot be read"):
        env_secret("T_SECRET")
    empty = tmp_path / "empty"
    empty.write_text("  \n")
    monkeypatch.setenv("T_SECRET_FILE", str(empty))
    with pytest.raises(EnvError, match="is empty"):
        env_secret("T_SECRET")


def test_env_secret_missing_mentions_file_variant(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("T_SECRET", raising=False)
    monkeypatch.delenv("T_SECRET_FILE", raising=False)
    with pytest.raises(EnvError, match=r"T_SECRET \(or T_SECRET_FILE\) is required"):
        env_secret("T_SECRET")
