"""Automations API: CRUD, pause/resume, and firings with their action runs and delivery attempts."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from controlplane.automations.api.serializers import AutomationSerializer, AutomationWriteSerializer, FiringSerializer
from controlplane.automations.models import Automation, Firing
from controlplane.automations.selectors import automations_list, firings_list
from controlplane.automations.services import automation_create, automation_delete, automation_update
from controlplane.core.errors import Conflict
from controlplane.orgs.api.base import WorkspaceViewSet
from controlplane.orgs.roles import Scope

WRITE_SCOPES = {
    "GET": Scope.WORKSPACE_READ,
    "POST": Scope.AUTOMATIONS_WRITE,
    "PATCH": Scope.AUTOMATIONS_WRITE,
    "DELETE": Scope.AUTOMATIONS_WRITE,
}


class AutomationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, WorkspaceViewSet):
    """Automations: a trigger (event, compound or sequence) and the actions to take when it fires."""

    serializer_class = AutomationSerializer
    scope_map = WRITE_SCOPES

    def safely_get_queryset(self) -> QuerySet[Automation]:
        return automations_list()

    def _editable(self) -> Automation:
        automation: Automation = self.get_object()
        if automation.sla_id is not None:
            raise Conflict(
                "This automation belongs to an SLA: change the SLA instead.", details={"sla_id": str(automation.sla_id)}
            )
        return automation

    @extend_schema(request=AutomationWriteSerializer, responses={201: AutomationSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Create an automation. The trigger and actions are validated (422 naming the part), and the
        objects actions name (deployments, blocks, pools) must exist in this workspace (404)."""
        data = AutomationWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        automation = automation_create(actor=self.actor, workspace=self.access.workspace, **data.validated_data)
        return Response(AutomationSerializer(automation).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=AutomationWriteSerializer, responses=AutomationSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        automation = self._editable()
        data = AutomationWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        automation = automation_update(actor=self.actor, automation=automation, **data.validated_data)
        return Response(AutomationSerializer(automation).data)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        automation_delete(actor=self.actor, automation=self._editable())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=AutomationSerializer)
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Stop evaluating the trigger (its state is dropped); repeating it changes nothing."""
        automation = automation_update(actor=self.actor, automation=self.get_object(), enabled=False)
        return Response(AutomationSerializer(automation).data)

    @extend_schema(request=None, responses=AutomationSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Evaluate the trigger again, from a clean state."""
        automation = automation_update(actor=self.actor, automation=self.get_object(), enabled=True)
        return Response(AutomationSerializer(automation).data)


class FiringViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, WorkspaceViewSet):
    """Times automations fired, newest first, with each action's status, attempts and deliveries."""

    serializer_class = FiringSerializer
    scope_map = {"GET": Scope.WORKSPACE_READ}

    def safely_get_queryset(self) -> QuerySet[Firing]:
        return firings_list(self.request.query_params)

    @extend_schema(parameters=[OpenApiParameter("automation_id", str)])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)
