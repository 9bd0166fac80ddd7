"""Outgoing HTTP for notifications and webhooks, refusing internal addresses (SSRF).

Every host is resolved first and every address it resolves to must be public: loopback,
private, link-local (cloud metadata at 169.254.169.254 included), unspecified, multicast,
shared and reserved addresses are refused, also when written in decimal, hex or IPv4-mapped
IPv6 form (the resolver decodes those and the check sees the real address). The request
then goes to the address that was checked (no second lookup a DNS answer could change), and
redirects are followed by hand, each new target checked the same way. Hosts and networks
listed in `TETHER_OUTBOUND_ALLOW` are exempt. Response bodies are never returned to callers.
"""

from __future__ import annotations

import ipaddress
import json as jsonlib
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx
from django.conf import settings

MAX_REDIRECTS = 5
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class OutboundError(Exception):
    """A delivery that did not succeed; `retryable` says whether trying again may help."""

    retryable = True


class OutboundRefused(OutboundError):
    """The target is not allowed (an internal address, a bad URL): trying again will not help."""

    retryable = False


class OutboundFailed(OutboundError):
    """The target could not be reached or answered with an error."""

    def __init__(self, message: str, *, status_code: int | None = None, retryable: bool = True) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.retryable = retryable


@dataclass(frozen=True)
class Delivered:
    status_code: int
    target: str  # scheme://host[:port] only: paths and queries may hold secrets (a Slack URL does)


def target_label(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"


def _allowed_networks() -> tuple[set[str], list[ipaddress.IPv4Network | ipaddress.IPv6Network]]:
    hosts: set[str] = set()
    networks = []
    for entry in settings.TETHER_OUTBOUND_ALLOW:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            hosts.add(entry.strip().lower())
    return hosts, networks


def _why_internal(address: IPAddress) -> str | None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return _why_internal(address.ipv4_mapped)
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address (cloud metadata lives there)"
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_private:
        return "a private address"
    if not address.is_global:
        return "a reserved, non-public address"
    return None


def _literal_address(host: str) -> IPAddress | None:
    """The address a host written as an IP literal means (dotted, decimal, hex, short forms)."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


def check_literal(url: str) -> None:
    """Refuse, without any lookup, a URL whose host is written as an internal address or is localhost."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    allowed_hosts, allowed_networks = _allowed_networks()
    if not host:
        raise OutboundRefused("The URL has no host.")
    if host in allowed_hosts:
        return
    if host == "localhost" or host.endswith(".localhost"):
        raise OutboundRefused(
            f"Refusing to call {host!r}: it is this machine. Allow it with TETHER_OUTBOUND_ALLOW if it is meant to be."
        )
    address = _literal_address(host)
    reason = _why_internal(address) if address is not None else None
    if address is not None and reason and not any(address in network for network in allowed_networks):
        raise OutboundRefused(
            f"Refusing to call {host!r}: it is {address}, {reason}. "
            "Allow it with TETHER_OUTBOUND_ALLOW if it is meant to be reached."
        )


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise OutboundFailed(f"Could not resolve {host!r}: {exc}.") from None
    addresses: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


@dataclass(frozen=True)
class CheckedTarget:
    url: str
    host: str
    port: int
    address: IPAddress


def check_target(url: str) -> CheckedTarget:
    """Resolve `url`'s host; refuse it unless every address is public or allowed by settings."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise OutboundRefused(f"Only http and https URLs may be called, not {parts.scheme or 'no scheme'!r}.")
    host = (parts.hostname or "").lower()
    if not host:
        raise OutboundRefused("The URL has no host.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise OutboundRefused("The URL's port is not a number between 0 and 65535.") from None
    allowed_hosts, allowed_networks = _allowed_networks()
    addresses = _resolve(host, port)
    if not addresses:
        raise OutboundFailed(f"{host!r} resolved to no address.")
    if host not in allowed_hosts:
        for address in addresses:
            reason = _why_internal(address)
            if reason and not any(address in network for network in allowed_networks):
                raise OutboundRefused(
                    f"Refusing to call {host!r}: it resolves to {address}, {reason}. "
                    "Allow it with TETHER_OUTBOUND_ALLOW if it is meant to be reached."
                )
    return CheckedTarget(url=url, host=host, port=port, address=addresses[0])


def _pinned(target: CheckedTarget) -> tuple[str, dict[str, str], dict[str, Any]]:
    """The URL with the checked address as its host, the Host header and TLS name for the real host."""
    parts = urlsplit(target.url)
    literal = f"[{target.address}]" if target.address.version == 6 else str(target.address)
    netloc = f"{literal}:{target.port}"
    url = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    default_port = 443 if parts.scheme == "https" else 80
    host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
    extensions = {"sni_hostname": target.host} if parts.scheme == "https" else {}
    return url, {"Host": host_header}, extensions


def send(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    json: Any = None,
    content: bytes | None = None,
    timeout: float | None = None,
) -> Delivered:
    """One delivery (redirects included). Raises OutboundRefused or OutboundFailed; 2xx returns."""
    timeout = timeout or float(settings.TETHER_OUTBOUND_TIMEOUT_SECONDS)
    deadline = time.monotonic() + timeout
    body = content if content is not None else (jsonlib.dumps(json).encode() if json is not None else None)
    request_headers = dict(headers or {})
    if json is not None:
        request_headers.setdefault("Content-Type", "application/json")
    current_url, current_method = url, method.upper()
    with httpx.Client(follow_redirects=False, trust_env=False) as client:
        for _ in range(MAX_REDIRECTS + 1):
            target = check_target(current_url)
            pinned_url, host_header, extensions = _pinned(target)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise OutboundFailed(f"No answer from {target_label(current_url)} within {timeout:g} s.")
            try:
                response = client.request(
                    current_method,
                    pinned_url,
                    headers={**request_headers, **host_header},
                    content=body,
                    timeout=remaining,
                    extensions=extensions,
                )
            except httpx.TimeoutException:
                raise OutboundFailed(f"No answer from {target_label(current_url)} within {timeout:g} s.") from None
            except httpx.HTTPError as exc:
                raise OutboundFailed(f"Could not reach {target_label(current_url)}: {type(exc).__name__}.") from None
            response.close()
            location = response.headers.get("location")
            if response.is_redirect and location:
                next_url = urljoin(current_url, location)
                if urlsplit(next_url).netloc != urlsplit(current_url).netloc:
                    request_headers = {k: v for k, v in request_headers.items() if k.lower() == "content-type"}
                if response.status_code in (301, 302, 303) and current_method != "GET":
                    current_method, body = "GET", None
                current_url = next_url
                continue
            if response.is_success:
                return Delivered(status_code=response.status_code, target=target_label(url))
            retryable = response.status_code in (408, 425, 429) or response.status_code >= 500
            raise OutboundFailed(
                f"{target_label(current_url)} answered {response.status_code}.",
                status_code=response.status_code,
                retryable=retryable,
            )
    raise OutboundFailed(f"More than {MAX_REDIRECTS} redirects from {target_label(url)}.", retryable=False)
