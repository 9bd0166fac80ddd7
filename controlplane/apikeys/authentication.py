"""DRF authentication with `Authorization: Bearer tether_…` keys (and `tether_run_…` run tokens)."""

from __future__ import annotations

import hmac
from datetime import timedelta
from typing import Any

from django.utils import timezone
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from controlplane.apikeys.models import ApiKey, RunToken
from controlplane.apikeys.tokens import KeyKind, hash_key, parse_key
from controlplane.core.queries import unique_row
from controlplane.orgs import access_cache
from controlplane.orgs.access_cache import access_generation

# Every failure says the same thing: which check failed is of use only to an attacker.
INVALID_KEY = "Invalid, expired or revoked API key."
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiKeyAuthentication(BaseAuthentication):
    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[Any, ApiKey | RunToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise AuthenticationFailed(INVALID_KEY)
        try:
            token = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed(INVALID_KEY) from None
        parsed = parse_key(token)
        if parsed is None:
            raise AuthenticationFailed(INVALID_KEY)
        if parsed.kind == KeyKind.RUN:
            # Imported here: run tokens read runs and dispatch, which DRF's settings must not import.
            from controlplane.apikeys.run_tokens import run_token_authenticate

            run_token = run_token_authenticate(token, parsed)
            if run_token is None:
                raise AuthenticationFailed(INVALID_KEY)
            # No user: a run token is its own principal (orgs.principals), valid on workspace routes only.
            return None, run_token
        key = _usable_key(request, token, parsed.lookup_prefix)
        principal = key.user if key.user is not None else key.service_account
        assert principal is not None
        _touch(key)
        return principal, key

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="tether"'


def _usable_key(request: Request, token: str, lookup_prefix: str) -> ApiKey:
    """The key with its principal, from this process's cache while nothing about access changed."""
    token_hash = hash_key(token)
    generation = access_generation(request)
    key: ApiKey | None = access_cache.keys.get(token_hash, generation)
    if key is None:
        key = unique_row(
            ApiKey.dangerously_unscoped.select_related("user", "service_account").filter(prefix=lookup_prefix)
        )
        if key is None or not hmac.compare_digest(token_hash, key.secret_hash):
            raise AuthenticationFailed(INVALID_KEY)
        principal = key.user if key.user is not None else key.service_account
        if principal is None or not principal.is_active:
            raise AuthenticationFailed(INVALID_KEY)
        access_cache.keys.put(token_hash, generation, key)
    if not key.is_usable():  # expiry comes with time, not with a write: checked on every use
        raise AuthenticationFailed(INVALID_KEY)
    return key


def _touch(key: ApiKey) -> None:
    """Record use at most once a minute: a hot key must not write on every request."""
    now = timezone.now()
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_RESOLUTION:
        return
    ApiKey.dangerously_unscoped.filter(pk=key.pk).update(last_used_at=now)
    key.last_used_at = now
