"""A small synchronous client of the control plane's workspace API.

httpx is imported here, lazily: a flow that runs untracked never pays for it.
"""

from __future__ import annotations

import contextlib
import os
import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tether._redaction import redact_any
from tether._version import __version__
from tether.exceptions import APIError, DeliveryUnknown, TransitionRefused

if TYPE_CHECKING:
    import httpx

# How long a flow-run state proposal keeps trying an unreachable server (it gates the run).
STATE_RETRY_SECONDS = 120.0
# Statuses worth another try: the server is restarting, overloaded or throttling us.
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})


def _not_sent_errors() -> tuple[type[Exception], ...]:
    import httpx

    # Failures before a byte of the request left: resending cannot apply it twice.
    return (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def backoff_delay(attempt: int, *, base: float = 0.1, cap: float = 5.0) -> float:
    """Exponential backoff with full jitter (attempt 0 → up to `base` seconds)."""
    return float(random.uniform(0, min(cap, base * 2 ** min(attempt, 30))))  # noqa: S311 - jitter, not crypto


class Client:
    """The workspace API (`TETHER_API_URL`, or the profile's), authenticated with `TETHER_API_KEY`."""

    def __init__(
        self,
        api_url: str,
        api_key: str | None,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        verify: Any = None,
    ) -> None:
        import httpx

        self.api_url = api_url.rstrip("/") + "/"
        headers = {"User-Agent": f"tether/{__version__}"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        if verify is None:
            verify = os.environ.get("TETHER_CA_BUNDLE") or True
        self._http = httpx.Client(
            base_url=self.api_url, headers=headers, timeout=timeout, transport=transport, verify=verify
        )
        self._sleep = sleep

    @classmethod
    def from_env(cls) -> Client | None:
        """From `TETHER_API_URL`/`TETHER_API_KEY`, else from the active profile (`tether login`)."""
        from tether.profiles import api_url_and_key

        url, key = api_url_and_key()
        return cls(url, key) if url else None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        retry_for: float = 0.0,
        resend_safe: bool = True,
    ) -> httpx.Response:
        """Send a request; retry transient failures (connect errors, 5xx, 429) for `retry_for` seconds.

        A 4xx other than 429 is never retried: it is raised as `APIError` at once. With
        `resend_safe=False`, a connection that broke after the request went out raises
        `DeliveryUnknown` at once: the caller finds out what the server applied before resending.
        """
        import httpx

        deadline = time.monotonic() + retry_for
        attempt = 0
        while True:
            try:
                response = self._http.request(method, path, json=json, params=params)
            except httpx.TransportError as exc:
                if not resend_safe and not isinstance(exc, _not_sent_errors()):
                    raise DeliveryUnknown(f"{method} {path}: the answer was lost: {exc!r}") from exc
                if time.monotonic() >= deadline:
                    raise APIError(f"{method} {path}: cannot reach the control plane: {exc!r}") from exc
                self._sleep(min(backoff_delay(attempt), max(0.0, deadline - time.monotonic())))
                attempt += 1
                continue
            if response.status_code < 400:
                return response
            if response.status_code in TRANSIENT_STATUSES and time.monotonic() < deadline:
                wait = backoff_delay(attempt)
                retry_after = response.headers.get("Retry-After")
                if retry_after is not None:
                    with contextlib.suppress(ValueError):
                        wait = max(wait, float(retry_after))
                self._sleep(min(wait, max(0.0, deadline - time.monotonic())))
                attempt += 1
                continue
            raise self._error(method, path, response)

    @staticmethod
    def _error(method: str, path: str, response: httpx.Response) -> APIError:
        try:
            body = response.json()
        except ValueError:
            body = response.text[:500]
        error = body.get("error", {}) if isinstance(body, dict) else {}
        message = error.get("message") or str(body)[:500]
        if response.status_code == 409:
            details = error.get("details") or {}
            return TransitionRefused(
                f"{method} {path}: {message}", status=details.get("status", "ABORT"), state=details.get("state")
            )
        return APIError(
            f"{method} {path} answered {response.status_code}: {message}", status_code=response.status_code, body=body
        )

    def get(self, path: str, *, params: dict[str, Any] | None = None, retry_for: float = 30.0) -> Any:
        return self.request("GET", path, params=params, retry_for=retry_for).json()

    def post(self, path: str, body: Any, *, retry_for: float = 30.0) -> Any:
        return self.request("POST", path, json=body, retry_for=retry_for).json()

    # The orchestration calls the engine makes.

    def create_flow_run(self, body: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self.post("flow-runs/", body)
        return result

    def set_flow_run_state(
        self,
        flow_run_id: str,
        state: dict[str, Any],
        *,
        epoch: int | None = None,
        max_wait: float = 3600.0,
        retry_for: float = STATE_RETRY_SECONDS,
    ) -> dict[str, Any]:
        """Propose a state and follow WAIT answers by sleeping; a refusal raises `TransitionRefused`.

        An unreachable server is retried for `retry_for` seconds: a run outlives a network outage
        of a minute or so. Re-sending is safe: the same state proposed twice changes nothing.
        """
        # A failure's message may quote a secret the run revealed: it leaves redacted.
        body: dict[str, Any] = {"state": redact_any(state)}
        if epoch is not None:
            body["epoch"] = epoch
        waited = 0.0
        while True:
            result: dict[str, Any] = self.post(f"flow-runs/{flow_run_id}/set-state/", body, retry_for=retry_for)
            if result.get("status") != "WAIT" or waited >= max_wait:
                return result
            delay = float(result.get("delay_seconds") or 1.0)
            self._sleep(delay)
            waited += delay
