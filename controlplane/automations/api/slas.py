"""SLAs on deployments: `slas/` (filter `?deployment_id=`); each compiles into an automation it owns."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from controlplane.automations.api.views import WRITE_SCOPES
from controlplane.automations.models import Automation, DeploymentSla, SlaKind
from controlplane.automations.slas import sla_create, sla_delete, sla_update
from controlplane.core.errors import NotFound
from controlplane.core.query_params import uuid_params
from controlplane.flows.models import Deployment
from controlplane.orgs.api.base import WorkspaceViewSet


class SlaSerializer(serializers.ModelSerializer[DeploymentSla]):
    deployment_id = serializers.UUIDField(read_only=True)
    automation_id = serializers.SerializerMethodField()
    actions = serializers.JSONField(help_text="actions as in automations (docs/automations.md)")

    class Meta:
        model = DeploymentSla
        fields = (
            "id", "deployment_id", "name", "kind", "seconds", "time_of_day", "timezone", "actions", "enabled",
            "automation_id", "created_at", "updated_at",
        )  # fmt: skip
        read_only_fields = fields

    def get_automation_id(self, sla: DeploymentSla) -> str | None:
        automation = Automation.objects.filter(sla=sla).values_list("id", flat=True).first()
        return str(automation) if automation else None


class SlaWriteSerializer(serializers.Serializer[Any]):
    deployment_id = serializers.UUIDField()
    name = serializers.CharField(max_length=255)
    kind = serializers.ChoiceField(choices=SlaKind.choices)
    seconds = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    time_of_day = serializers.TimeField(required=False, allow_null=True, help_text="HH:MM (freshness)")
    timezone = serializers.CharField(required=False, max_length=64, help_text="IANA name (freshness), default UTC")
    actions = serializers.JSONField()
    enabled = serializers.BooleanField(required=False)


class SlaViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, WorkspaceViewSet):
    """start_within / complete_within (seconds) and freshness (a completed run by HH:MM each day)."""

    serializer_class = SlaSerializer
    scope_map = WRITE_SCOPES

    def safely_get_queryset(self) -> QuerySet[DeploymentSla]:
        slas = DeploymentSla.objects.order_by("created_at", "id")
        deployment_id = self.request.query_params.get("deployment_id")
        return slas.filter(deployment_id__in=uuid_params("deployment_id", [deployment_id])) if deployment_id else slas

    @extend_schema(parameters=[OpenApiParameter("deployment_id", str)])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @staticmethod
    def _fields(data: dict[str, Any]) -> dict[str, Any]:
        data.pop("deployment_id", None)
        if "timezone" in data:
            data["timezone_name"] = data.pop("timezone")
        return data

    @extend_schema(request=SlaWriteSerializer, responses={201: SlaSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = SlaWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        deployment = Deployment.objects.filter(pk=data.validated_data["deployment_id"]).first()
        if deployment is None:
            raise NotFound("No such deployment in this workspace.")
        sla = sla_create(actor=self.actor, deployment=deployment, **self._fields(dict(data.validated_data)))
        return Response(SlaSerializer(sla).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=SlaWriteSerializer, responses=SlaSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        sla = self.get_object()
        data = SlaWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        sla = sla_update(actor=self.actor, sla=sla, **self._fields(dict(data.validated_data)))
        return Response(SlaSerializer(sla).data)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        sla_delete(actor=self.actor, sla=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
