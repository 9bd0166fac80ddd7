"""RELIABILITY 1: missing, garbled, expired or revoked keys → the same 401, and `last_used_at` stays put.

The strongest forgery is a key that passes every offline check: the right lookup prefix and a
valid checksum over a wrong body. It reaches the database lookup, so it proves the hash
comparison, not just the checksum, refuses it without touching the real key's row.
"""

from __future__ import annotations

import zlib
from datetime import timedelta
from typing import Any

from django.utils import timezone

from controlplane.apikeys.models import ApiKey
from tests.support.clients import bearer
from tests.support.tenants import World, service_account_key

ACCESS = "/api/v1/orgs/acme/workspaces/prod/access/"
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
SAME_ANSWER = {"code": "authentication_failed", "message": "Invalid, expired or revoked API key.", "details": {}}


def _with_valid_checksum(head: str) -> str:
    """The documented key format: a base62 CRC32 of everything before it, six characters wide."""
    number, digits = zlib.crc32(head.encode("ascii")), []
    for _ in range(6):
        number, remainder = divmod(number, 62)
        digits.append(BASE62[remainder])
    return head + "".join(reversed(digits))


def _same_prefix_other_body(secret: str) -> str:
    head = secret[:-6]
    lookup = len("tether_sa_") + 12  # the stored, non-secret prefix
    tail = "".join("a" if char != "a" else "b" for char in head[lookup:])
    forged = _with_valid_checksum(head[:lookup] + tail)
    assert forged[:lookup] == secret[:lookup]
    assert forged != secret
    return forged


def _row(secret: str) -> ApiKey:
    key: ApiKey = ApiKey.dangerously_unscoped.get(prefix=secret[: len("tether_sa_") + 12])
    return key


def _raw(header: str | None) -> Any:
    client = bearer("unused")
    client.credentials(**({"HTTP_AUTHORIZATION": header} if header is not None else {}))
    return client.get(ACCESS)


def test_every_bad_key_gets_the_same_401_and_no_key_row_is_touched(world: World) -> None:
    keys = {name: service_account_key(world.alice, world.prod, "worker", name=name) for name in ("ok", "rev", "exp")}
    secrets = {name: secret for name, (_, secret) in keys.items()}
    long_ago = timezone.now() - timedelta(hours=2)  # old enough that a use would be recorded
    ApiKey.dangerously_unscoped.update(last_used_at=long_ago)
    ApiKey.dangerously_unscoped.filter(pk=_row(secrets["rev"]).pk).update(revoked_at=timezone.now())
    ApiKey.dangerously_unscoped.filter(pk=_row(secrets["exp"]).pk).update(expires_at=timezone.now())
    disabled_account, disabled = service_account_key(world.alice, world.prod, "worker", name="disabled")
    disabled_account.is_active = False
    disabled_account.save(update_fields=["is_active"])
    ApiKey.dangerously_unscoped.update(last_used_at=long_ago)

    presented = {
        "revoked": secrets["rev"],
        "expired": secrets["exp"],
        "principal disabled": disabled,
        "right prefix and checksum, wrong body": _same_prefix_other_body(secrets["ok"]),
        "one character off": secrets["ok"][:-1] + ("B" if secrets["ok"][-1] != "B" else "C"),
        "truncated": secrets["ok"][:-1],
        "garbled": "tether_sa_garbage",
        "another product's token": "ghp_" + "x" * 36,
    }
    for label, token in presented.items():
        response = bearer(token).get(ACCESS)
        assert response.status_code == 401, label
        assert response.json()["error"] == SAME_ANSWER, label
        assert response["WWW-Authenticate"] == 'Bearer realm="tether"', label
    for header in ("Bearer", f"Bearer {secrets['ok']} extra", "Bearer caf\u00e9"):
        response = _raw(header)
        assert (response.status_code, response.json()["error"]) == (401, SAME_ANSWER), header

    # No credentials at all is the same status and challenge (the code says nothing was sent).
    missing = _raw(None)
    assert missing.status_code == 401
    assert missing["WWW-Authenticate"] == 'Bearer realm="tether"'

    assert set(ApiKey.dangerously_unscoped.values_list("last_used_at", flat=True)) == {long_ago}

    # The control: the genuine key is recorded on use, so an unchanged stamp above means something.
    assert bearer(secrets["ok"]).get(ACCESS).status_code == 200
    assert _row(secrets["ok"]).last_used_at > long_ago  # type: ignore[operator]
