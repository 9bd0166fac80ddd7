"""The standard block types every workspace sees. Secret properties carry `"x-secret": true`.

Synced into the database after every migrate (`block_types_sync_standard`); bump a type's
`version` when its schema changes.
"""

from __future__ import annotations

from typing import Any, TypedDict


class StandardType(TypedDict):
    slug: str
    name: str
    description: str
    icon: str
    version: str
    schema: dict[str, Any]


def _secret(title: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "title": title, "x-secret": True, "format": "password", **extra}


def _schema(properties: dict[str, Any], required: list[str], **extra: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required, **extra}


_HEADERS = {"type": "object", "additionalProperties": {"type": "string"}}

STANDARD_TYPES: list[StandardType] = [
    {
        "slug": "secret",
        "name": "Secret",
        "description": "A single secret value (a password, a token, an API key).",
        "icon": "key",
        "version": "1",
        "schema": _schema({"value": _secret("Value")}, ["value"]),
    },
    {
        "slug": "json",
        "name": "JSON",
        "description": "Any JSON value (not secret: shown in clear to every reader).",
        "icon": "braces",
        "version": "1",
        "schema": _schema({"value": {"title": "Value"}}, ["value"]),
    },
    {
        "slug": "git-credentials",
        "name": "Git credentials",
        "description": "Credentials for cloning a private repository: a token, or a username and password.",
        "icon": "git-branch",
        "version": "1",
        "schema": _schema(
            {
                "username": {"type": "string", "title": "Username"},
                "token": _secret("Access token"),
                "password": _secret("Password"),
            },
            [],
            anyOf=[{"required": ["token"]}, {"required": ["username", "password"]}],
        ),
    },
    {
        "slug": "s3-credentials",
        "name": "S3-compatible credentials",
        "description": "Access to S3 or an S3-compatible object store (MinIO, R2, GCS interop).",
        "icon": "bucket",
        "version": "1",
        "schema": _schema(
            {
                "access_key_id": {"type": "string", "title": "Access key id"},
                "secret_access_key": _secret("Secret access key"),
                "session_token": _secret("Session token"),
                "region": {"type": "string", "title": "Region"},
                "endpoint_url": {"type": "string", "title": "Endpoint URL", "format": "uri"},
                "bucket": {"type": "string", "title": "Default bucket"},
            },
            ["access_key_id", "secret_access_key"],
        ),
    },
    {
        "slug": "slack-webhook",
        "name": "Slack webhook",
        "description": "An incoming-webhook URL for Slack (the URL is the secret).",
        "icon": "slack",
        "version": "1",
        "schema": _schema({"url": _secret("Webhook URL")}, ["url"]),
    },
    {
        "slug": "webhook",
        "name": "Webhook",
        "description": "A generic HTTP webhook: URL, headers, and headers that hold secrets.",
        "icon": "webhook",
        "version": "1",
        "schema": _schema(
            {
                "url": {"type": "string", "title": "URL", "format": "uri"},
                "method": {"type": "string", "enum": ["GET", "POST", "PUT", "PATCH", "DELETE"], "default": "POST"},
                "headers": {**_HEADERS, "title": "Headers"},
                "secret_headers": {**_HEADERS, "title": "Secret headers", "x-secret": True},
            },
            ["url"],
        ),
    },
    {
        "slug": "smtp",
        "name": "SMTP server",
        "description": "An SMTP server to send email through.",
        "icon": "mail",
        "version": "1",
        "schema": _schema(
            {
                "host": {"type": "string", "title": "Host"},
                "port": {"type": "integer", "minimum": 1, "maximum": 65535, "default": 587},
                "username": {"type": "string", "title": "Username"},
                "password": _secret("Password"),
                "security": {"type": "string", "enum": ["starttls", "ssl", "none"], "default": "starttls"},
                "from_address": {"type": "string", "title": "From address"},
            },
            ["host"],
        ),
    },
    {
        "slug": "docker-registry-credentials",
        "name": "Docker registry credentials",
        "description": "A login for a container image registry.",
        "icon": "docker",
        "version": "1",
        "schema": _schema(
            {
                "registry_url": {"type": "string", "title": "Registry"},
                "username": {"type": "string", "title": "Username"},
                "password": _secret("Password or token"),
            },
            ["registry_url", "username", "password"],
        ),
    },
    {
        "slug": "kubernetes-cluster-config",
        "name": "Kubernetes cluster config",
        "description": "A kubeconfig (YAML or JSON text) and the context to use.",
        "icon": "kubernetes",
        "version": "1",
        "schema": _schema(
            {
                "config": _secret("Kubeconfig"),
                "context_name": {"type": "string", "title": "Context"},
            },
            ["config"],
        ),
    },
    {
        "slug": "aws-credentials",
        "name": "AWS credentials",
        "description": "An access key for AWS APIs (ECS work pools, CloudWatch logs); optional endpoint for emulators.",
        "icon": "aws",
        "version": "1",
        "schema": _schema(
            {
                "aws_access_key_id": {"type": "string", "title": "Access key id"},
                "aws_secret_access_key": _secret("Secret access key"),
                "aws_session_token": _secret("Session token"),
                "region_name": {"type": "string", "title": "Region"},
                "endpoint_url": {"type": "string", "title": "Endpoint URL", "format": "uri"},
            },
            ["aws_access_key_id", "aws_secret_access_key"],
        ),
    },
    {
        "slug": "gcp-credentials",
        "name": "GCP service account",
        "description": "A Google Cloud service-account key (the JSON file's content), for Cloud Run work pools.",
        "icon": "gcp",
        "version": "1",
        "schema": _schema(
            {
                "service_account_info": _secret("Service account key (JSON)"),
                "project": {"type": "string", "title": "Project (defaults to the key's project_id)"},
            },
            ["service_account_info"],
        ),
    },
    {
        "slug": "azure-credentials",
        "name": "Azure service principal",
        "description": "A Microsoft Entra service principal, for Azure Container Instances work pools.",
        "icon": "azure",
        "version": "1",
        "schema": _schema(
            {
                "tenant_id": {"type": "string", "title": "Tenant id"},
                "client_id": {"type": "string", "title": "Client id"},
                "client_secret": _secret("Client secret"),
            },
            ["tenant_id", "client_id", "client_secret"],
        ),
    },
]

STANDARD_SLUGS = frozenset(entry["slug"] for entry in STANDARD_TYPES)
SINGLE_VALUE_TYPES = frozenset({"secret", "json"})
