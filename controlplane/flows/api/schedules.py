"""A deployment's schedules, and a preview of the runs a schedule would create."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from controlplane.core.errors import NotFound
from controlplane.flows.models import Deployment, DeploymentSchedule, ScheduleKind
from controlplane.flows.schedules.services import schedule_create, schedule_delete, schedule_update, spec_from
from controlplane.flows.schedules.timing import schedule_times
from controlplane.orgs.api.base import WorkspaceViewSet
from controlplane.orgs.roles import Scope

PREVIEW_MAX = 50


class ScheduleSerializer(serializers.ModelSerializer[DeploymentSchedule]):
    kind = serializers.ChoiceField(choices=ScheduleKind.choices)
    cron = serializers.CharField(max_length=255, required=False, allow_blank=True)
    rrule = serializers.CharField(max_length=6500, required=False, allow_blank=True)
    timezone = serializers.CharField(max_length=64, required=False, default="UTC")
    interval_seconds = serializers.FloatField(required=False, min_value=1, max_value=366 * 86400)
    parameters = serializers.DictField(required=False)

    class Meta:
        model = DeploymentSchedule
        fields = (
            "id",
            "kind",
            "cron",
            "day_or",
            "interval_seconds",
            "anchor",
            "rrule",
            "timezone",
            "active",
            "parameters",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("id", "created_at", "updated_at")


class PreviewSerializer(serializers.Serializer[dict[str, Any]]):
    count = serializers.IntegerField(min_value=1, max_value=PREVIEW_MAX, default=10)


class ScheduleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, WorkspaceViewSet):
    """Cron, interval or RRULE schedules of one deployment, each with its own parameter overrides.

    Changing or deleting a schedule replaces the runs it had scheduled that have not started.
    """

    serializer_class = ScheduleSerializer
    scope_map = {
        "GET": Scope.WORKSPACE_READ,
        "POST": Scope.DEPLOYMENTS_WRITE,
        "PATCH": Scope.DEPLOYMENTS_WRITE,
        "DELETE": Scope.DEPLOYMENTS_WRITE,
    }
    action_scopes = {"preview": Scope.WORKSPACE_READ}

    def _deployment(self) -> Deployment:
        deployment: Deployment | None = Deployment.objects.filter(pk=self.kwargs["deployment_id"]).first()
        if deployment is None:
            raise NotFound("Deployment not found.")
        return deployment

    def safely_get_queryset(self) -> QuerySet[DeploymentSchedule]:
        return DeploymentSchedule.objects.filter(deployment=self._deployment()).order_by("created_at")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = ScheduleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        schedule = schedule_create(actor=self.actor, deployment=self._deployment(), **data.validated_data)
        return Response(ScheduleSerializer(schedule).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ScheduleSerializer, responses=ScheduleSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        schedule = self.get_object()
        data = ScheduleSerializer(schedule, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        schedule = schedule_update(actor=self.actor, schedule=schedule, **data.validated_data)
        return Response(ScheduleSerializer(schedule).data)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        schedule_delete(actor=self.actor, schedule=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=ScheduleSerializer,
        parameters=[PreviewSerializer],
        responses={200: {"type": "array", "items": {"type": "string", "format": "date-time"}}},
    )
    @action(detail=False, methods=["post"])
    def preview(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The next start times of a schedule (not saved), for a human-readable preview in forms."""
        self._deployment()
        data = ScheduleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        count = PreviewSerializer(data=request.query_params)
        count.is_valid(raise_exception=True)
        spec = spec_from(dict(data.validated_data))
        now = timezone.now()
        times = schedule_times(spec, now, now.replace(year=now.year + 5), count.validated_data["count"])
        return Response([instant.isoformat() for instant in times])
