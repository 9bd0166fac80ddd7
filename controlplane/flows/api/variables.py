from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from controlplane.flows.models import Variable, variable_name_validator
from controlplane.flows.services import variable_create, variable_delete, variable_update
from controlplane.orgs.api.base import WorkspaceViewSet
from controlplane.orgs.roles import Scope


class VariableSerializer(serializers.ModelSerializer[Variable]):
    name = serializers.CharField(max_length=255, validators=[variable_name_validator])
    value = serializers.JSONField()
    tags = serializers.ListField(
        child=serializers.CharField(max_length=100), max_length=50, required=False, default=list
    )

    class Meta:
        model = Variable
        fields = ("id", "name", "value", "tags", "created_at", "updated_at")
        read_only_fields = ("id", "created_at", "updated_at")


class VariableViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, WorkspaceViewSet):
    """Workspace variables: named JSON values that flows read at run time."""

    serializer_class = VariableSerializer
    scope_map = {
        "GET": Scope.WORKSPACE_READ,
        "POST": Scope.VARIABLES_WRITE,
        "PATCH": Scope.VARIABLES_WRITE,
        "DELETE": Scope.VARIABLES_WRITE,
    }

    def safely_get_queryset(self) -> QuerySet[Variable]:
        return Variable.objects.all()

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = VariableSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        variable = variable_create(workspace=self.access.workspace, **data.validated_data)
        return Response(VariableSerializer(variable).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=VariableSerializer, responses=VariableSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        variable = self.get_object()
        data = VariableSerializer(variable, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        variable = variable_update(variable=variable, **data.validated_data)
        return Response(VariableSerializer(variable).data)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        variable_delete(variable=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
