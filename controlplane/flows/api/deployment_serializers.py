"""Deployment input and output: entrypoint and code-source shapes are checked here (400)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from controlplane.flows.api.fields import JSONObjectField, TagsField, name_validator
from controlplane.flows.models import CollisionStrategy, Deployment

_IDENTIFIER = r"[^\W\d]\w*"
_DOTTED = rf"{_IDENTIFIER}(?:\.{_IDENTIFIER})*"
_PY_FILE = r"(?:[\w.-]+/)*[\w.-]+\.py"
entrypoint_validator = RegexValidator(
    # A relative path (no `..` segment) or a module, then the function: `flows/etl.py:main`, `etl.flows:main`.
    rf"^(?!(?:.*/)?\.\.(?:/|:))(?:{_PY_FILE}|{_DOTTED}):{_DOTTED}\Z",
    "Use path/to/file.py:function (relative to the code's root, no '..') or module.path:function.",
)

SOURCE_TYPES = ("git", "path", "url")
_GIT_SCP_STYLE = re.compile(r"^[\w.-]+@[\w.-]+:[^\s]+\Z")  # git@github.com:org/repo.git
_GIT_SCHEMES = frozenset({"https", "http", "ssh", "git", "file"})
_URL_SCHEMES = frozenset({"https", "http", "s3", "gs", "gcs", "az", "abfs", "abfss", "file"})
_NO_CREDENTIALS = "Do not put credentials in the URL: store them in a block and name it in credentials_block."
# `git-credentials/acme`, `{{ block.git-credentials.acme }}`, a block id or a bare name (see docs/blocks.md).
credentials_block_validator = RegexValidator(
    r"^[^\x00-\x1f\x7f]+\Z", "A block reference may not contain control characters."
)


def _check_url(url: str, schemes: frozenset[str], *, user_allowed: bool = False) -> str:
    if any(char.isspace() or ord(char) < 32 for char in url):
        raise serializers.ValidationError("A URL may not contain spaces or control characters.")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise serializers.ValidationError("This is not a valid URL.") from None
    if parts.scheme not in schemes:
        raise serializers.ValidationError(f"Use a URL with one of the schemes: {', '.join(sorted(schemes))}.")
    if parts.scheme != "file" and not parts.hostname:
        raise serializers.ValidationError("The URL has no host.")
    if parts.password or (parts.username and not user_allowed):
        raise serializers.ValidationError(_NO_CREDENTIALS)
    return url


class GitSourceSerializer(serializers.Serializer[Any]):
    """Code in a git repository, checked out at `ref` (a branch, tag or commit; default branch if omitted)."""

    type = serializers.ChoiceField(choices=["git"])
    url = serializers.CharField(max_length=2000)
    ref = serializers.CharField(max_length=255, required=False)
    credentials_block = serializers.CharField(max_length=255, required=False, validators=[credentials_block_validator])

    def validate_url(self, url: str) -> str:
        if _GIT_SCP_STYLE.match(url):
            return url
        # `ssh://git@host/...` names a user, never a secret; https URLs may name neither.
        return _check_url(url, _GIT_SCHEMES, user_allowed=urlsplit(url).scheme == "ssh")


class PathSourceSerializer(serializers.Serializer[Any]):
    """Code in a directory on the agent's host."""

    type = serializers.ChoiceField(choices=["path"])
    path = serializers.CharField(max_length=1000)


class UrlSourceSerializer(serializers.Serializer[Any]):
    """Code in an archive at an HTTP(S) or object-store URL (s3://, gs://, az://)."""

    type = serializers.ChoiceField(choices=["url"])
    url = serializers.CharField(max_length=2000)
    credentials_block = serializers.CharField(max_length=255, required=False, validators=[credentials_block_validator])

    def validate_url(self, url: str) -> str:
        return _check_url(url, _URL_SCHEMES)


_SOURCE_SERIALIZERS: dict[str, type[serializers.Serializer[Any]]] = {
    "git": GitSourceSerializer,
    "path": PathSourceSerializer,
    "url": UrlSourceSerializer,
}


@extend_schema_field(
    {
        "type": "object",
        "description": (
            'Where the agent gets the code: {"type": "git", "url", "ref"?, "credentials_block"?}, '
            '{"type": "path", "path"} or {"type": "url", "url", "credentials_block"?}. '
            "Empty when the code is already in the agent's working directory."
        ),
        "properties": {
            "type": {"type": "string", "enum": list(SOURCE_TYPES)},
            "url": {"type": "string"},
            "ref": {"type": "string"},
            "path": {"type": "string"},
            "credentials_block": {"type": "string"},
        },
    }
)
class SourceField(serializers.Field):  # type: ignore[type-arg]
    default_error_messages = {
        "not_an_object": 'Expected an object such as {{"type": "git", "url": "...", "ref": "main"}}.',
        "type": "Set type to one of: git, path, url.",
    }

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            self.fail("not_an_object")
        kind = data.get("type")
        serializer_class = _SOURCE_SERIALIZERS.get(kind) if isinstance(kind, str) else None
        if serializer_class is None:
            raise serializers.ValidationError({"type": [self.error_messages["type"]]})
        source = serializer_class(data=data)
        unknown = sorted(str(key) for key in data if key not in source.fields)
        if unknown:
            raise serializers.ValidationError({key: [f"Not a field of a {kind} source."] for key in unknown[:20]})
        if not source.is_valid():
            raise serializers.ValidationError(source.errors)
        return dict(source.validated_data)

    def to_representation(self, value: Any) -> Any:
        return value


class DeploymentSerializer(serializers.ModelSerializer[Deployment]):
    """A deployment with the names of its flow, pool and queue: everything an agent needs to run it."""

    flow_id = serializers.UUIDField(read_only=True)
    flow_name = serializers.CharField(source="flow.name", read_only=True)
    work_pool_id = serializers.UUIDField(read_only=True, allow_null=True)
    work_pool_name = serializers.CharField(source="work_pool.name", read_only=True, allow_null=True)
    work_pool_type = serializers.CharField(source="work_pool.type", read_only=True, allow_null=True)
    work_queue_id = serializers.UUIDField(read_only=True, allow_null=True)
    work_queue_name = serializers.CharField(source="work_queue.name", read_only=True, allow_null=True)
    source = SourceField(read_only=True)  # type: ignore[assignment]  # a field named like Field.source
    parameters = JSONObjectField(read_only=True)
    parameter_schema = JSONObjectField(read_only=True)
    job_variables = JSONObjectField(read_only=True)
    tags = TagsField(read_only=True)

    class Meta:
        model = Deployment
        fields = (
            "id",
            "name",
            "flow_id",
            "flow_name",
            "description",
            "version",
            "entrypoint",
            "source",
            "parameters",
            "parameter_schema",
            "enforce_parameter_schema",
            "work_pool_id",
            "work_pool_name",
            "work_pool_type",
            "work_queue_id",
            "work_queue_name",
            "tags",
            "job_variables",
            "paused",
            "concurrency_limit",
            "collision_strategy",
            "retries",
            "retry_delay_seconds",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class DeploymentWriteSerializer(serializers.Serializer[Any]):
    """Fields a deployment's owner sets. Omitted fields are left as they are (or get defaults when new)."""

    name = serializers.CharField(max_length=255, validators=[name_validator])
    entrypoint = serializers.CharField(max_length=1000, validators=[entrypoint_validator])
    source = SourceField(required=False)  # type: ignore[assignment]  # a field named like Field.source
    description = serializers.CharField(max_length=10_000, allow_blank=True, required=False)
    version = serializers.CharField(max_length=100, allow_blank=True, required=False)
    parameters = JSONObjectField(required=False, help_text="Default parameters (at most 512 KiB of JSON).")
    parameter_schema = JSONObjectField(required=False, help_text="JSON Schema (draft 2020-12) of the parameters.")
    enforce_parameter_schema = serializers.BooleanField(required=False)
    work_pool_name = serializers.CharField(max_length=100, allow_null=True, required=False)
    work_queue_name = serializers.CharField(
        max_length=100, allow_null=True, required=False, help_text="Defaults to the pool's `default` queue."
    )
    tags = TagsField(required=False)
    job_variables = JSONObjectField(required=False, help_text="Per-deployment overrides of the pool's job template.")
    paused = serializers.BooleanField(required=False)
    concurrency_limit = serializers.IntegerField(min_value=0, max_value=1_000_000, allow_null=True, required=False)
    collision_strategy = serializers.ChoiceField(choices=CollisionStrategy.choices, required=False)
    retries = serializers.IntegerField(min_value=0, max_value=1000, required=False)
    retry_delay_seconds = serializers.IntegerField(min_value=0, max_value=30 * 86400, required=False)


class DeploymentCreateSerializer(DeploymentWriteSerializer):
    flow_name = serializers.CharField(max_length=255, validators=[name_validator], required=False)
    flow_id = serializers.UUIDField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("flow_name" in attrs) == ("flow_id" in attrs):
            raise serializers.ValidationError({"flow_name": ["Give exactly one of flow_name and flow_id."]})
        if attrs.get("work_queue_name") is not None and attrs.get("work_pool_name") is None:
            raise serializers.ValidationError({"work_queue_name": ["A queue is named together with work_pool_name."]})
        return attrs


SORTS: dict[str, tuple[str, ...]] = {
    "name": ("name", "created_at"),
    "-name": ("-name", "-created_at"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
}


class DeploymentFilterSerializer(serializers.Serializer[Any]):
    flow_id = serializers.UUIDField(required=False)
    flow_name = serializers.CharField(max_length=255, required=False)
    name = serializers.CharField(max_length=255, required=False)
    work_pool_name = serializers.CharField(max_length=100, required=False)
    work_queue_name = serializers.CharField(max_length=100, required=False)
    tag = serializers.ListField(child=serializers.CharField(max_length=100), max_length=20, required=False)
    paused = serializers.BooleanField(required=False)
    sort = serializers.ChoiceField(choices=list(SORTS), required=False)
