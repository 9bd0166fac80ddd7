"""Global concurrency limits and the leases that occupy them."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from controlplane.concurrency.models import ConcurrencyLease, ConcurrencyLimit
from controlplane.concurrency.selectors import concurrency_limits_for
from controlplane.concurrency.services import (
    MAX_LEASE_SECONDS,
    concurrency_acquire,
    concurrency_lease_release,
    concurrency_lease_renew,
    concurrency_limit_create,
    concurrency_limit_delete,
    concurrency_limit_update,
    occupancy,
)
from controlplane.orgs.api.base import WorkspaceViewSet
from controlplane.orgs.roles import Scope

NAME = serializers.RegexField(r"^[A-Za-z0-9_.:-]{1,255}$", max_length=255)


class ConcurrencyLimitSerializer(serializers.ModelSerializer[ConcurrencyLimit]):
    name = NAME
    limit = serializers.IntegerField(min_value=0, max_value=1_000_000)
    slot_decay_per_second = serializers.FloatField(min_value=0, max_value=1_000_000, required=False)
    active_slots = serializers.SerializerMethodField()

    class Meta:
        model = ConcurrencyLimit
        fields = ("id", "name", "limit", "active", "slot_decay_per_second", "active_slots", "created_at")
        read_only_fields = ("id", "active_slots", "created_at")

    def get_active_slots(self, limit: ConcurrencyLimit) -> float:
        return round(occupancy(limit, timezone.now()), 3)


class AcquireSerializer(serializers.Serializer[dict[str, Any]]):
    names = serializers.ListField(child=NAME, min_length=1, max_length=20)
    slots = serializers.IntegerField(min_value=1, max_value=1_000_000, default=1)
    ttl_seconds = serializers.FloatField(min_value=0.1, max_value=MAX_LEASE_SECONDS, default=60)
    holder = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    mode = serializers.ChoiceField(choices=["concurrency", "rate_limit"], default="concurrency")


class RenewSerializer(serializers.Serializer[dict[str, Any]]):
    ttl_seconds = serializers.FloatField(min_value=0.1, max_value=MAX_LEASE_SECONDS, default=60)


class LeaseSerializer(serializers.ModelSerializer[ConcurrencyLease]):
    class Meta:
        model = ConcurrencyLease
        fields = ("id", "slots", "expires_at", "holder", "created_at")
        read_only_fields = fields


class ConcurrencyLimitViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, WorkspaceViewSet):
    """Named limits shared by every flow and task of the workspace (`concurrency("name")` in the SDK)."""

    serializer_class = ConcurrencyLimitSerializer
    scope_map = {
        "GET": Scope.WORKSPACE_READ,
        "POST": Scope.CONCURRENCY_WRITE,
        "PATCH": Scope.CONCURRENCY_WRITE,
        "DELETE": Scope.CONCURRENCY_WRITE,
    }

    def safely_get_queryset(self) -> QuerySet[ConcurrencyLimit]:
        params = self.request.query_params
        return concurrency_limits_for(name_prefix=params.get("name_prefix", ""), names=params.getlist("name"))

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = ConcurrencyLimitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        limit = concurrency_limit_create(workspace=self.access.workspace, **data.validated_data)
        return Response(ConcurrencyLimitSerializer(limit).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ConcurrencyLimitSerializer, responses=ConcurrencyLimitSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        limit = self.get_object()
        data = ConcurrencyLimitSerializer(limit, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        return Response(ConcurrencyLimitSerializer(concurrency_limit_update(limit=limit, **data.validated_data)).data)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        concurrency_limit_delete(limit=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class ConcurrencyLeaseViewSet(mixins.RetrieveModelMixin, WorkspaceViewSet):
    """Occupy slots: acquire (all named limits or none), renew, release."""

    serializer_class = LeaseSerializer
    scope_map = {"GET": Scope.WORKSPACE_READ, "POST": Scope.RUNS_REPORT, "DELETE": Scope.RUNS_REPORT}

    def safely_get_queryset(self) -> QuerySet[ConcurrencyLease]:
        return ConcurrencyLease.objects.all()

    @extend_schema(request=AcquireSerializer, responses={201: LeaseSerializer, 200: dict[str, Any]})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Acquire. 201 with the lease, or 200 `{"acquired": false, "retry_after_seconds"}` to ask again.

        `mode=rate_limit` (limits with slot decay) takes slots that free themselves as they
        decay: it answers 200 `{"acquired": true}` and creates no lease. A lease acquired with a
        run token belongs to that run: only it renews or releases the lease.
        """
        data = AcquireSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        run_token = self.principal.run_token
        result = concurrency_acquire(
            workspace=self.access.workspace,
            flow_run_id=run_token.flow_run_id if run_token is not None else None,
            **data.validated_data,
        )
        if not result.acquired:
            body = {"acquired": False, "retry_after_seconds": result.retry_after_seconds, "blocking": result.blocking}
            return Response(body)
        if result.lease is None:
            return Response({"acquired": True})
        return Response({"acquired": True, **LeaseSerializer(result.lease).data}, status=status.HTTP_201_CREATED)

    @extend_schema(request=RenewSerializer, responses=LeaseSerializer)
    @action(detail=True, methods=["post"])
    def renew(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = RenewSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lease = concurrency_lease_renew(lease=self.get_object(), ttl_seconds=data.validated_data["ttl_seconds"])
        return Response(LeaseSerializer(lease).data)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        concurrency_lease_release(lease=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
