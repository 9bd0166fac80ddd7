"""Service accounts: org-level non-human principals (agents, CI)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.request import Request
from rest_framework.response import Response

from controlplane.orgs.api.base import OrgViewSet
from controlplane.orgs.api.serializers import (
    ServiceAccountCreateSerializer,
    ServiceAccountSerializer,
    ServiceAccountUpdateSerializer,
)
from controlplane.orgs.models import ServiceAccount
from controlplane.orgs.roles import Scope
from controlplane.orgs.services.service_accounts import (
    service_account_create,
    service_account_delete,
    service_account_update,
)


class ServiceAccountViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrgViewSet):
    """Create, list, describe and delete service accounts (owners and admins)."""

    serializer_class = ServiceAccountSerializer
    scope_map = {
        "GET": Scope.SERVICE_ACCOUNTS_WRITE,
        "POST": Scope.SERVICE_ACCOUNTS_WRITE,
        "PATCH": Scope.SERVICE_ACCOUNTS_WRITE,
        "DELETE": Scope.SERVICE_ACCOUNTS_WRITE,
    }

    def safely_get_queryset(self) -> QuerySet[ServiceAccount]:
        return ServiceAccount.objects.all()

    @extend_schema(request=ServiceAccountCreateSerializer, responses={201: ServiceAccountSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = ServiceAccountCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        account = service_account_create(actor=self.actor, organization=self.access.organization, **data.validated_data)
        return Response(ServiceAccountSerializer(account).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ServiceAccountUpdateSerializer, responses=ServiceAccountSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = ServiceAccountUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        account = service_account_update(
            actor=self.actor, account=self.get_object(), description=data.validated_data["description"]
        )
        return Response(ServiceAccountSerializer(account).data)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        service_account_delete(actor=self.actor, account=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
