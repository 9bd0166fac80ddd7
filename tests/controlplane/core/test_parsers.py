"""RELIABILITY 25 and 27: hostile JSON is a clear 400 on every endpoint, never a 500."""

from __future__ import annotations

import pytest

from tests.support.clients import session
from tests.support.tenants import World

URL = "/api/v1/orgs/acme/workspaces/prod/variables/"


@pytest.mark.parametrize(
    "body",
    [
        b'{"name": "deep", "value": ' + b"[" * 10_000 + b"]" * 10_000 + b"}",
        b'{"name": "deep", "value": ' + b"[" * 100 + b"]" * 100 + b"}",
        b'{"name": "nul", "value": "a\\u0000b"}',
        b'{"name": "surrogate", "value": "\\ud800"}',
        b'{"name\\u0000": "key", "value": 1}',
        b"\xff\xfe not utf-8",
    ],
    ids=["10000-deep", "100-deep", "nul", "lone-surrogate", "nul-key", "invalid-utf8"],
)
def test_hostile_json_is_a_clear_400(world: World, body: bytes) -> None:
    response = session(world.alice).generic("POST", URL, body, content_type="application/json")  # type: ignore[arg-type]
    assert response.status_code == 400
    assert response.json()["error"]["code"] in ("parse_error", "invalid")


def test_unstorable_text_names_its_field(world: World) -> None:
    body = b'{"name": "ok", "value": {"rows": [1, "a\\ud800"]}}'
    response = session(world.alice).generic("POST", URL, body, content_type="application/json")  # type: ignore[arg-type]
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {
        "value": {"rows": {"1": ["Text must be valid Unicode (no unpaired surrogates)."]}}
    }


def test_ordinary_nesting_and_unicode_still_work(world: World) -> None:
    value = {"a": [{"b": ["ü", "日本", "🙂"]}]}
    response = session(world.alice).post(URL, {"name": "fine", "value": value}, format="json")
    assert response.status_code == 201
    assert response.json()["value"] == value


def test_forged_cursor_positions_are_a_400(world: World) -> None:
    import base64

    for position in ("not-a-date", "2026-99-99"):
        raw = base64.b64encode(f"o=0&r=0&p={position}".encode()).decode()
        response = session(world.alice).get(f"{URL}?cursor={raw}")
        assert response.status_code == 400, position
