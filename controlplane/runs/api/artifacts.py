"""Artifacts: markdown, tables and links that runs publish; keyed artifacts keep every version."""

from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from controlplane.core.pagination import TetherCursorPagination
from controlplane.orgs.api.base import WorkspaceViewSet
from controlplane.orgs.roles import Scope
from controlplane.runs.api.fields import StorableCharField
from controlplane.runs.models import Artifact, ArtifactType
from controlplane.runs.selectors.artifacts import artifact_keys_latest, artifact_latest, artifacts_filtered
from controlplane.runs.services.artifacts import (
    ARTIFACT_KEY_MAX_LENGTH,
    ARTIFACT_KEY_PATTERN,
    artifact_create,
    artifact_delete,
)

ARTIFACT_DESCRIPTION_MAX_LENGTH = 10_000


class ArtifactSerializer(serializers.ModelSerializer[Artifact]):
    class Meta:
        model = Artifact
        fields = ("id", "key", "type", "description", "data", "flow_run_id", "task_run_id", "created_at")
        read_only_fields = fields


class ArtifactInputSerializer(serializers.Serializer[dict[str, Any]]):
    type = serializers.ChoiceField(choices=ArtifactType.choices)
    data = serializers.JSONField(  # type: ignore[assignment]  # a field named like Serializer.data
        help_text="markdown: a string; table: a list of rows (all objects or all lists); link: an http(s) URL."
    )
    key = StorableCharField(
        max_length=ARTIFACT_KEY_MAX_LENGTH,
        trim_whitespace=False,
        required=False,
        allow_null=True,
        default=None,
        validators=[RegexValidator(ARTIFACT_KEY_PATTERN, "A key is lowercase letters, digits and dashes.")],
        help_text="Lowercase letters, digits and dashes. Each create adds a version of the key.",
    )
    description = StorableCharField(
        max_length=ARTIFACT_DESCRIPTION_MAX_LENGTH, required=False, allow_blank=True, default="", trim_whitespace=False
    )
    flow_run_id = serializers.UUIDField(required=False, allow_null=True, default=None)
    task_run_id = serializers.UUIDField(required=False, allow_null=True, default=None)


class ArtifactFilterSerializer(serializers.Serializer[dict[str, Any]]):
    key = StorableCharField(required=False, max_length=ARTIFACT_KEY_MAX_LENGTH)
    flow_run_id = serializers.UUIDField(required=False)
    task_run_id = serializers.UUIDField(required=False)
    type = serializers.ChoiceField(choices=ArtifactType.choices, required=False)


class ArtifactKeyPagination(TetherCursorPagination):
    ordering = ("key", "id")  # one row per key: the key alone is a unique position


class ArtifactViewSet(mixins.RetrieveModelMixin, WorkspaceViewSet):
    """Artifacts of the workspace's runs. Reading needs workspace:read; publishing runs:report."""

    serializer_class = ArtifactSerializer
    scope_map = {"GET": Scope.WORKSPACE_READ, "POST": Scope.RUNS_REPORT, "DELETE": Scope.RUNS_WRITE}

    def safely_get_queryset(self) -> QuerySet[Artifact]:
        return Artifact.objects.all()

    @extend_schema(
        parameters=[
            OpenApiParameter("key", str, description="Every version of this key."),
            OpenApiParameter("flow_run_id", str),
            OpenApiParameter("task_run_id", str),
            OpenApiParameter("type", str, enum=ArtifactType.values),
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Artifacts, newest first."""
        filters = ArtifactFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        artifacts = artifacts_filtered(workspace=self.access.workspace, **filters.validated_data)
        page = self.paginate_queryset(artifacts)
        return self.get_paginated_response(ArtifactSerializer(page, many=True).data)

    @extend_schema(request=ArtifactInputSerializer, responses={201: ArtifactSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Publish an artifact, or a new version of a key.

        `data` is limited to 1 MiB of JSON (422 naming the limit). A `flow_run_id` must be a
        flow run of this workspace (404 otherwise, nothing stored).
        """
        data = ArtifactInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        artifact = artifact_create(workspace=self.access.workspace, **data.validated_data)
        return Response(ArtifactSerializer(artifact).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Delete one artifact version."""
        artifact_delete(artifact=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses=ArtifactSerializer(many=True))
    @action(detail=False, methods=["get"], url_path="keys")
    def keys(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Every key with its latest version (one artifact per key), ordered by key."""
        paginator = ArtifactKeyPagination()
        page = paginator.paginate_queryset(artifact_keys_latest(workspace=self.access.workspace), request, view=self)
        return paginator.get_paginated_response(ArtifactSerializer(page, many=True).data)

    @extend_schema(responses=ArtifactSerializer)
    @action(detail=False, methods=["get"], url_path="keys/<slug:artifact_key>", url_name="latest")
    def latest(self, request: Request, artifact_key: str, *args: Any, **kwargs: Any) -> Response:
        """The latest version of a key (404 when the key has none); `?key=` on the list gives every version."""
        return Response(ArtifactSerializer(artifact_latest(workspace=self.access.workspace, key=artifact_key)).data)
