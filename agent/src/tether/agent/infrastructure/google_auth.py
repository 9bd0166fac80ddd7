"""A Google access token from a service-account key: a JWT signed with the key (RS256),
exchanged at the key's `token_uri` (the OAuth 2.0 JWT bearer grant, RFC 7523).

Needs `cryptography` (`pip install 'tether[cloud-run]'`), imported only when a token is made.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from tether._redaction import register_secret
from tether.agent.infrastructure.base import InfrastructureError
from tether.agent.infrastructure.cloud_api import AccessToken, TransientApiError, read_token

CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
DEFAULT_TOKEN_URI = "https://oauth2.googleapis.com/token"  # noqa: S105 - a URL, not a secret
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_LIFETIME = 3600


@dataclass(frozen=True)
class ServiceAccountKey:
    client_email: str
    private_key: str = field(repr=False)
    private_key_id: str | None
    token_uri: str
    project_id: str | None


def service_account_key(info: Any) -> ServiceAccountKey:
    """The key of a `gcp-credentials` block's `service_account_info` (the JSON file's text, or its dict)."""
    if isinstance(info, str):
        try:
            info = json.loads(info)
        except ValueError:
            raise InfrastructureError("service_account_info is not JSON: paste the whole key file.") from None
    if not isinstance(info, Mapping):
        raise InfrastructureError("service_account_info must be a service-account key (a JSON object).")
    missing = [name for name in ("client_email", "private_key") if not isinstance(info.get(name), str)]
    if missing:
        raise InfrastructureError(f"The service-account key has no {' or '.join(missing)}: is it a key file?")
    register_secret(info["private_key"])
    return ServiceAccountKey(
        client_email=info["client_email"],
        private_key=info["private_key"],
        private_key_id=info.get("private_key_id"),
        token_uri=str(info.get("token_uri") or DEFAULT_TOKEN_URI),
        project_id=info.get("project_id"),
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signed_assertion(key: ServiceAccountKey, *, now: float | None = None, scope: str = CLOUD_PLATFORM_SCOPE) -> str:
    """The JWT the token endpoint exchanges for an access token."""
    try:
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding, rsa
    except ImportError as exc:
        raise InfrastructureError(
            "This pool runs flows on Cloud Run: install the agent with `pip install 'tether[cloud-run]'`."
        ) from exc
    issued = int(time.time() if now is None else now)
    header: dict[str, str] = {"alg": "RS256", "typ": "JWT"}
    if key.private_key_id:
        header["kid"] = key.private_key_id
    claims = {
        "iss": key.client_email,
        "scope": scope,
        "aud": key.token_uri,
        "iat": issued,
        "exp": issued + ASSERTION_LIFETIME,
    }
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}".encode()
    try:
        private_key = serialization.load_pem_private_key(key.private_key.encode(), password=None)
    except ValueError:
        raise InfrastructureError("The service-account key's private_key is not a PEM private key.") from None
    if not isinstance(private_key, rsa.RSAPrivateKey):
        raise InfrastructureError("The service-account key's private_key is not an RSA key.")
    signature = private_key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input.decode()}.{_b64(signature)}"


def fetch_access_token(http: httpx.Client, key: ServiceAccountKey) -> AccessToken:
    who = f"The service account {key.client_email}"
    form = {"grant_type": JWT_BEARER_GRANT, "assertion": signed_assertion(key)}
    try:
        response = http.post(key.token_uri, data=form)
    except httpx.HTTPError as exc:
        raise TransientApiError(f"Could not reach Google's token endpoint {key.token_uri}: {exc}") from exc
    return read_token(response, who)
