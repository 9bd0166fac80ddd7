"""Routes under /api/v1/. Every tenant route sits under orgs/{org_slug}/[workspaces/{ws_slug}/]."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path
from rest_framework.routers import SimpleRouter

from controlplane.accounts.api import MeView
from controlplane.apikeys.api.views import PersonalApiKeyViewSet, ServiceAccountApiKeyViewSet
from controlplane.audit.api.views import AuditEntryViewSet
from controlplane.automations.api.slas import SlaViewSet
from controlplane.automations.api.views import AutomationViewSet, FiringViewSet
from controlplane.blocks.api.views import BlockDocumentViewSet, BlockTypeViewSet
from controlplane.concurrency.api.views import ConcurrencyLeaseViewSet, ConcurrencyLimitViewSet
from controlplane.core.api.info import ServerInfoView
from controlplane.events.api.views import EventViewSet, InboundWebhookViewSet
from controlplane.flows.api.deployments import DeploymentViewSet
from controlplane.flows.api.flows import FlowViewSet
from controlplane.flows.api.schedules import ScheduleViewSet
from controlplane.flows.api.variables import VariableViewSet
from controlplane.orgs.api.views_members import (
    InvitationAcceptView,
    InvitationDeclineView,
    InvitationViewSet,
    OrgMemberViewSet,
    TransferOwnershipView,
    WorkspaceMemberViewSet,
)
from controlplane.orgs.api.views_orgs import (
    OrganizationDetailView,
    OrganizationListView,
    WorkspaceAccessView,
    WorkspaceDetailView,
    WorkspaceListView,
)
from controlplane.orgs.api.views_service_accounts import ServiceAccountViewSet
from controlplane.runs.api.artifacts import ArtifactViewSet
from controlplane.runs.api.background import BackgroundTaskViewSet, TaskWorkerViewSet
from controlplane.runs.api.flow_runs import FlowRunViewSet
from controlplane.runs.api.logs import FlowRunLogViewSet, LogViewSet
from controlplane.runs.api.pauses import FlowRunInputViewSet, FlowRunResumeViewSet
from controlplane.runs.api.task_runs import TaskRunViewSet
from controlplane.workpools.api.agents import AgentViewSet
from controlplane.workpools.api.views import WorkPoolViewSet, WorkQueueViewSet

org_router = SimpleRouter(use_regex_path=False)
org_router.register("members", OrgMemberViewSet, basename="org-members")
org_router.register("invitations", InvitationViewSet, basename="org-invitations")
org_router.register("service-accounts", ServiceAccountViewSet, basename="service-accounts")
org_router.register(
    "service-accounts/<uuid:service_account_id>/api-keys", ServiceAccountApiKeyViewSet, basename="sa-keys"
)
org_router.register("api-keys", PersonalApiKeyViewSet, basename="personal-keys")
org_router.register("audit-log", AuditEntryViewSet, basename="audit-log")

workspace_router = SimpleRouter(use_regex_path=False)
# The routes agents, engines and SDKs call all day come first: Django tries patterns in order.
workspace_router.register("agents", AgentViewSet, basename="agents")
workspace_router.register("flow-runs", FlowRunViewSet, basename="flow-runs")
workspace_router.register("task-runs", TaskRunViewSet, basename="task-runs")
workspace_router.register("background-tasks", BackgroundTaskViewSet, basename="background-tasks")
workspace_router.register("task-workers", TaskWorkerViewSet, basename="task-workers")
workspace_router.register("flow-runs/<uuid:flow_run_id>/logs", FlowRunLogViewSet, basename="flow-run-logs")
workspace_router.register("flow-runs/<uuid:flow_run_id>/resume", FlowRunResumeViewSet, basename="flow-run-resume")
workspace_router.register("flow-runs/<uuid:flow_run_id>/input", FlowRunInputViewSet, basename="flow-run-input")
workspace_router.register("logs", LogViewSet, basename="logs")
workspace_router.register("artifacts", ArtifactViewSet, basename="artifacts")
workspace_router.register("events", EventViewSet, basename="events")
workspace_router.register("members", WorkspaceMemberViewSet, basename="workspace-members")
workspace_router.register("variables", VariableViewSet, basename="variables")
workspace_router.register("concurrency-limits", ConcurrencyLimitViewSet, basename="concurrency-limits")
workspace_router.register("concurrency-leases", ConcurrencyLeaseViewSet, basename="concurrency-leases")
workspace_router.register("flows", FlowViewSet, basename="flows")
workspace_router.register("deployments", DeploymentViewSet, basename="deployments")
workspace_router.register(
    "deployments/<uuid:deployment_id>/schedules", ScheduleViewSet, basename="deployment-schedules"
)
workspace_router.register("work-pools", WorkPoolViewSet, basename="work-pools")
workspace_router.register("work-pools/<uuid:pool_id>/queues", WorkQueueViewSet, basename="work-queues")
workspace_router.register("block-types", BlockTypeViewSet, basename="block-types")
workspace_router.register("blocks", BlockDocumentViewSet, basename="blocks")
workspace_router.register("inbound-webhooks", InboundWebhookViewSet, basename="inbound-webhooks")
workspace_router.register("automations", AutomationViewSet, basename="automations")
workspace_router.register("automation-firings", FiringViewSet, basename="automation-firings")
workspace_router.register("slas", SlaViewSet, basename="slas")

workspace_patterns: list[URLPattern | URLResolver] = [
    path("", WorkspaceDetailView.as_view(), name="workspace-detail"),
    path("access/", WorkspaceAccessView.as_view(), name="workspace-access"),
    *workspace_router.urls,
]

org_patterns: list[URLPattern | URLResolver] = [
    path("", OrganizationDetailView.as_view(), name="org-detail"),
    path("transfer-ownership/", TransferOwnershipView.as_view(), name="org-transfer-ownership"),
    path("workspaces/", WorkspaceListView.as_view(), name="workspace-list"),
    path("workspaces/<slug:ws_slug>/", include(workspace_patterns)),
    *org_router.urls,
]

urlpatterns: list[URLPattern | URLResolver] = [
    path("info/", ServerInfoView.as_view(), name="server-info"),
    path("me/", MeView.as_view(), name="me"),
    path("orgs/", OrganizationListView.as_view(), name="org-list"),
    path("orgs/<slug:org_slug>/", include(org_patterns)),
    path("invitations/accept/", InvitationAcceptView.as_view(), name="invitation-accept"),
    path("invitations/decline/", InvitationDeclineView.as_view(), name="invitation-decline"),
]
