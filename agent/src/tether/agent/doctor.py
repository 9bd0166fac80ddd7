"""`tether agent check`: can this host reach the control plane the way the agent needs to?

One line per check; a failed check says what to fix. Nothing secret is printed.
"""

from __future__ import annotations

import json
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TextIO
from urllib.parse import urlsplit
from urllib.request import getproxies, proxy_bypass

from tether._api import Client
from tether.agent.config import AgentConfig
from tether.agent.source import redact_url
from tether.exceptions import APIError

MAX_CLOCK_SKEW_SECONDS = 30.0
TIMEOUT_SECONDS = 10.0


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


class Doctor:
    def __init__(self, config: AgentConfig) -> None:
        self.config = config
        parts = urlsplit(config.api_url)
        self.host = parts.hostname or ""
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.proxy = self._proxy(parts.scheme)

    def _proxy(self, scheme: str) -> str | None:
        proxies = getproxies()
        if proxy_bypass(self.host):
            return None
        return proxies.get(scheme) or proxies.get("all")

    def checks(self) -> list[Callable[[], Check]]:
        return [self.dns, self.proxy_in_use, self.tcp, self.tls, self.key, self.clock, self.websocket]

    def run(self, out: TextIO) -> int:
        failed = 0
        for check in self.checks():
            try:
                result = check()
            except Exception as exc:  # noqa: BLE001 - a doctor reports every failure instead of stopping at one
                result = Check(check.__name__, False, f"{type(exc).__name__}: {exc}")
            failed += not result.ok
            out.write(f"{'ok  ' if result.ok else 'FAIL'}  {result.name:<10} {result.detail}\n")
            out.flush()
        out.write("All checks passed.\n" if not failed else f"{failed} check(s) failed.\n")
        return 1 if failed else 0

    def dns(self) -> Check:
        try:
            infos = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            detail = f"{self.host} does not resolve ({exc.strerror})"
            if self.proxy:
                return Check("dns", True, f"{detail}; the proxy resolves it")
            return Check("dns", False, detail)
        addresses = sorted({str(info[4][0]) for info in infos})
        return Check("dns", True, f"{self.host} → {', '.join(addresses[:4])}")

    def proxy_in_use(self) -> Check:
        if not self.proxy:
            return Check("proxy", True, "none (direct connection)")
        return Check("proxy", True, f"{redact_url(self.proxy)} (from HTTPS_PROXY/HTTP_PROXY; NO_PROXY honoured)")

    def _target(self) -> tuple[str, int]:
        if self.proxy:
            parts = urlsplit(self.proxy)
            return parts.hostname or "", parts.port or 3128
        return self.host, self.port

    def tcp(self) -> Check:
        host, port = self._target()
        started = time.perf_counter()
        try:
            with socket.create_connection((host, port), timeout=TIMEOUT_SECONDS):
                pass
        except OSError as exc:
            return Check("tcp", False, f"cannot connect to {host}:{port} ({exc.strerror or exc})")
        via = " (the proxy)" if self.proxy else ""
        return Check("tcp", True, f"{host}:{port}{via} in {1000 * (time.perf_counter() - started):.0f} ms")

    def tls(self) -> Check:
        if not self.config.secure:
            return Check("tls", False, "TETHER_API_URL is http://: traffic is not encrypted (use https://)")
        if self.proxy:
            return Check("tls", True, "through the proxy: checked by the key request below")
        trust = f"CA bundle {self.config.ca_bundle}" if self.config.ca_bundle else "the system trust store"
        try:
            with (
                socket.create_connection((self.host, self.port), timeout=TIMEOUT_SECONDS) as raw,
                self.config.ssl_context.wrap_socket(raw, server_hostname=self.host) as tls,
            ):
                cert = tls.getpeercert() or {}
                version = tls.version()
        except ssl.SSLCertVerificationError as exc:
            return Check("tls", False, f"not trusted by {trust}: {exc.verify_message}; set TETHER_CA_BUNDLE")
        except (ssl.SSLError, OSError) as exc:
            return Check("tls", False, f"handshake failed: {exc}")
        subject = dict(item[0] for item in cert.get("subject", ()))  # type: ignore[misc]
        return Check(
            "tls", True, f"{version}, {subject.get('commonName', '?')} until {cert.get('notAfter', '?')}, by {trust}"
        )

    def key(self) -> Check:
        with Client(
            self.config.api_url, self.config.api_key, timeout=TIMEOUT_SECONDS, verify=self.config.ssl_context
        ) as client:
            try:
                response = client.request("GET", "access/")
            except APIError as exc:
                if exc.status_code == 401:
                    return Check("key", False, "TETHER_API_KEY is refused (revoked, expired or mistyped)")
                if exc.status_code in (403, 404):
                    return Check("key", False, "the key has no access to this workspace (check TETHER_API_URL)")
                return Check("key", False, str(exc))
        body = response.json()
        role, scopes = body.get("role"), body.get("scopes", [])
        if "runs:claim" not in scopes:
            return Check("key", False, f"role {role!r} cannot claim runs: use a worker-role key")
        return Check("key", True, f"role {role!r} in {body.get('organization')}/{body.get('workspace')}: may claim")

    def clock(self) -> Check:
        import httpx

        parts = urlsplit(self.config.api_url)
        started = time.time()
        response = httpx.get(
            f"{parts.scheme}://{parts.netloc}/healthz", verify=self.config.ssl_context, timeout=TIMEOUT_SECONDS
        )
        date = response.headers.get("Date")
        if not date:
            return Check("clock", False, "no Date header from the server to compare with")
        # The header has one-second resolution and is stamped while we wait: compare with the midpoint.
        skew = (started + time.time()) / 2 - parsedate_to_datetime(date).timestamp()
        if abs(skew) > MAX_CLOCK_SKEW_SECONDS:
            return Check("clock", False, f"this host's clock is {skew:+.0f}s off the server's: sync it (NTP)")
        return Check("clock", True, f"{skew:+.1f}s from the server's (to within a second)")

    def websocket(self) -> Check:
        from websockets.exceptions import InvalidStatus, WebSocketException
        from websockets.sync.client import connect

        url = self.config.websocket_url("ws/v1/ping")
        try:
            with connect(
                url, ssl=self.config.ssl_context if self.config.secure else None, open_timeout=TIMEOUT_SECONDS
            ) as connection:
                connection.send(json.dumps({"type": "ping"}))
                answer = json.loads(connection.recv(timeout=TIMEOUT_SECONDS))
        except InvalidStatus as exc:
            return Check(
                "websocket", False, f"upgrade refused (HTTP {exc.response.status_code}): agents fall back to long-poll"
            )
        except (OSError, TimeoutError, WebSocketException) as exc:
            return Check("websocket", False, f"cannot open {url} ({exc}): agents fall back to long-poll")
        if answer.get("type") != "pong":
            return Check("websocket", False, f"unexpected answer {answer!r}")
        return Check("websocket", True, f"upgrade through to {url}")
