"""The standard block types every workspace has (their schemas live on the server, docs/blocks.md)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from tether.blocks.core import Block
from tether.blocks.fields import SecretDict, SecretStr


class Secret(Block):
    """A single secret value: `Secret.load("db-password").get()`."""

    _block_type_slug = "secret"
    _standard: ClassVar[bool] = True
    value: SecretStr

    def get(self) -> str:
        return self.value.get_secret_value()


class JSON(Block):
    """Any JSON value, not secret: `JSON.load("settings").get()`."""

    _block_type_slug = "json"
    _standard: ClassVar[bool] = True
    value: Any

    def get(self) -> Any:
        return self.value


class GitCredentials(Block):
    """Credentials for cloning a private repository: a token, or a username and password."""

    _block_type_slug = "git-credentials"
    _standard: ClassVar[bool] = True
    username: str | None = None
    token: SecretStr | None = None
    password: SecretStr | None = None


class S3Credentials(Block):
    _block_type_slug = "s3-credentials"
    _standard: ClassVar[bool] = True
    access_key_id: str
    secret_access_key: SecretStr
    session_token: SecretStr | None = None
    region: str | None = None
    endpoint_url: str | None = None
    bucket: str | None = None


class SlackWebhook(Block):
    _block_type_slug = "slack-webhook"
    _standard: ClassVar[bool] = True
    url: SecretStr


class Webhook(Block):
    _block_type_slug = "webhook"
    _standard: ClassVar[bool] = True
    url: str
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "POST"
    headers: dict[str, str] | None = None
    secret_headers: SecretDict | None = None


class SMTPServer(Block):
    _block_type_slug = "smtp"
    _standard: ClassVar[bool] = True
    host: str
    port: int = 587
    username: str | None = None
    password: SecretStr | None = None
    security: Literal["starttls", "ssl", "none"] = "starttls"
    from_address: str | None = None


class DockerRegistryCredentials(Block):
    _block_type_slug = "docker-registry-credentials"
    _standard: ClassVar[bool] = True
    registry_url: str
    username: str
    password: SecretStr


class KubernetesClusterConfig(Block):
    _block_type_slug = "kubernetes-cluster-config"
    _standard: ClassVar[bool] = True
    config: SecretStr
    context_name: str | None = None
