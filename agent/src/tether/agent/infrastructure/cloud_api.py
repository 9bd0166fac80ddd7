"""The HTTP side the Cloud Run and ACI infrastructures share: a bearer token that renews itself,
and a provider's refusal turned into an `InfrastructureError` an operator can act on.

Google and Azure both answer errors as `{"error": {"code": ..., "message": ...}}` (Google's
`code` is the HTTP status, with the gRPC name in `status`; Azure's is a word such as
`ResourceGroupNotFound`), and their token endpoints as `{"error": ..., "error_description": ...}`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import httpx

from tether._redaction import register_secret
from tether.agent.infrastructure.base import InfrastructureError

logger = logging.getLogger(__name__)

# Renew a token this long before it expires: a poll must never carry one that dies on the way.
RENEW_MARGIN_SECONDS = 120.0
HTTP_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
_QUOTA_WORDS = ("quota", "resource_exhausted", "resourceexhausted", "limit exceeded", "quotaexceeded")


class TransientApiError(InfrastructureError):
    """The provider could not answer now (unreachable, 5xx, 429): worth asking again later."""


# Polls that fail this many times in a row end the run: the agent cannot follow it any more.
MAX_TRANSIENT_FAILURES = 10


@dataclass(frozen=True)
class AccessToken:
    value: str
    expires_at: float  # time.monotonic()


def token_refused(response: httpx.Response, who: str) -> InfrastructureError:
    """A token endpoint's refusal: `the service account was refused: <error_description>`."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    detail = ""
    if isinstance(body, dict):
        detail = str(body.get("error_description") or body.get("error") or "")
    return InfrastructureError(f"{who} was refused ({response.status_code}): {detail or response.text[:300]}")


def read_token(response: httpx.Response, who: str) -> AccessToken:
    """The access token of a successful OAuth token response (registered for redaction)."""
    if response.status_code == 429 or response.status_code >= 500:
        raise TransientApiError(f"{who} could not get a token now ({response.status_code}): {response.text[:200]}")
    if response.status_code != 200:
        raise token_refused(response, who)
    body = response.json()
    value = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(value, str) or not value:
        raise InfrastructureError(f"{who} got a token response without an access_token.")
    register_secret(value)
    lifetime = float(body.get("expires_in") or 3600)
    return AccessToken(value, time.monotonic() + lifetime)


def _error_parts(response: httpx.Response) -> tuple[str, str]:
    """(code, message) of a provider error body; the raw text when it is not the usual shape."""
    try:
        body = response.json()
    except ValueError:
        return "", response.text[:300]
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        code = str(error.get("status") or error.get("code") or "")
        return code, str(error.get("message") or "")
    return "", str(body)[:300]


def api_error(response: httpx.Response, action: str, provider: str) -> InfrastructureError:
    """What went wrong, in words that say what to fix, for a refused `action` (e.g. "create the job").

    A `TransientApiError` for 429 and 5xx answers."""
    code, message = _error_parts(response)
    status = response.status_code
    said = f"{provider} answered {status}{f' {code}' if code else ''}: {message}".rstrip(": ")
    lowered = f"{code} {message}".lower()
    if any(word in lowered for word in _QUOTA_WORDS) or status == 429:
        hint = "a quota or rate limit was reached; raise the quota or run fewer at once"
    elif status == 401:
        hint = "the credentials were not accepted"
    elif status == 403:
        hint = "the credentials lack a permission this needs (see the pool's documentation for the roles)"
    elif status == 404:
        hint = "it names something that does not exist (check project/subscription, region and resource group)"
    elif status == 409:
        hint = "a resource of the same name exists or is in a conflicting state"
    else:
        hint = ""
    error = TransientApiError if status == 429 or status >= 500 else InfrastructureError
    return error(f"Could not {action}: {said}{f' ({hint})' if hint else ''}.")


class BearerSession:
    """An httpx client whose requests carry a token from `fetch_token`, renewed before it expires.

    Thread-safe: the agent cancels a run from another thread than the one that follows it.
    """

    def __init__(self, provider: str, fetch_token: Callable[[httpx.Client], AccessToken]) -> None:
        self.provider = provider
        self._fetch_token = fetch_token
        self._token: AccessToken | None = None
        self._lock = threading.Lock()
        self.http = httpx.Client(timeout=HTTP_TIMEOUT)

    def token(self) -> str:
        with self._lock:
            if self._token is None or time.monotonic() > self._token.expires_at - RENEW_MARGIN_SECONDS:
                self._token = self._fetch_token(self.http)
            return self._token.value

    def request(
        self,
        method: str,
        url: str,
        *,
        action: str,
        json: Any = None,
        params: dict[str, str] | None = None,
        allow: Collection[int] = (),
    ) -> httpx.Response:
        """The response; `InfrastructureError` naming `action` for an error status not in `allow`."""
        headers = {"Authorization": f"Bearer {self.token()}"}
        try:
            response = self.http.request(method, url, json=json, params=params, headers=headers)
        except httpx.HTTPError as exc:
            raise TransientApiError(f"Could not {action}: {self.provider} is unreachable ({exc}).") from exc
        if response.status_code >= 400 and response.status_code not in allow:
            raise api_error(response, action, self.provider)
        return response

    def close(self) -> None:
        self.http.close()


class Patience:
    """Counts a poll loop's transient failures in a row; past `MAX_TRANSIENT_FAILURES` it gives up."""

    def __init__(self, what: str) -> None:
        self._what = what
        self._failures = 0

    def failed(self, exc: TransientApiError) -> str | None:
        """Why to give up following the run, or None to try again at the next poll."""
        self._failures += 1
        if self._failures >= MAX_TRANSIENT_FAILURES:
            return f"lost track of {self._what} after {self._failures} failed polls: {exc}"
        logger.warning("Could not poll %s (will retry): %s", self._what, exc)
        return None

    def succeeded(self) -> None:
        self._failures = 0
