"""Agents, under /api/v1/orgs/{org}/workspaces/{ws}/agents/: hello, claim, heartbeat, list.

The server side of the hybrid protocol (docs/dispatch.md). Agents call these with a key
whose role has `runs:claim` (the worker role); the UI lists agents with `workspace:read`.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from controlplane.core.pagination import TetherCursorPagination
from controlplane.flows.api.fields import name_validator
from controlplane.orgs.api.base import WorkspaceViewSet
from controlplane.orgs.roles import Scope
from controlplane.runs.api.fields import StorableCharField
from controlplane.workpools.dispatch.selectors import agent_status, agents_list
from controlplane.workpools.dispatch.services import (
    ClaimedRun,
    agent_claim_waiting,
    agent_heartbeat,
    agent_hello,
)
from controlplane.workpools.dispatch.timings import MAX_WAIT_SECONDS, dispatch_timings
from controlplane.workpools.job_variables import resolved_job_variables
from controlplane.workpools.models import Agent, WorkPool

CAPACITY_MAX = 1_000
HEARTBEAT_RUNS_MAX = 10_000


class AgentSerializer(serializers.ModelSerializer[Agent]):
    pool_name = serializers.CharField(source="pool.name", read_only=True)
    status = serializers.SerializerMethodField(help_text="online, or offline when not heard from for 3 heartbeats")

    class Meta:
        model = Agent
        fields = ("id", "name", "pool_id", "pool_name", "queues", "capacity", "version", "status", "last_seen_at")
        read_only_fields = fields

    def get_status(self, agent: Agent) -> str:
        return agent_status(agent, now=self.context["now"], timings=self.context["timings"])


class HelloSerializer(serializers.Serializer[Any]):
    name = StorableCharField(max_length=100, validators=[name_validator])
    pool = StorableCharField(max_length=100, help_text="The work pool's name.")
    queues = serializers.ListField(
        child=StorableCharField(max_length=100),
        required=False,
        default=list,
        max_length=100,
        help_text="Queue names to serve; empty for every queue of the pool.",
    )
    capacity = serializers.IntegerField(min_value=1, max_value=CAPACITY_MAX, required=False, default=1)
    version = StorableCharField(max_length=64, required=False, allow_blank=True, default="")


class TimingsSerializer(serializers.Serializer[Any]):
    heartbeat_seconds = serializers.IntegerField()
    lease_seconds = serializers.IntegerField()
    long_poll_seconds = serializers.IntegerField()
    prefetch_seconds = serializers.IntegerField()


class HelloResultSerializer(serializers.Serializer[Any]):
    agent_id = serializers.UUIDField()
    timings = TimingsSerializer()


class ClaimSerializer(serializers.Serializer[Any]):
    capacity = serializers.IntegerField(min_value=0, max_value=CAPACITY_MAX, required=False, default=1)
    wait_seconds = serializers.FloatField(min_value=0, max_value=MAX_WAIT_SECONDS, required=False, default=0)


class ClaimedDeploymentSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    name = serializers.CharField()
    entrypoint = serializers.CharField()
    source = serializers.DictField()  # type: ignore[assignment]  # a field named like Field.source
    job_variables = serializers.DictField(help_text="Resolved: the pool's defaults, the deployment's, the run's.")


class ClaimedFlowRunSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    infrastructure = serializers.CharField(help_text="The pool's type: what the agent starts the run on.")
    name = serializers.CharField()
    parameters = serializers.DictField()
    tags = serializers.ListField(child=serializers.CharField())
    epoch = serializers.IntegerField()
    flow_name = serializers.CharField()
    deployment = ClaimedDeploymentSerializer(allow_null=True)


class ClaimedRunSerializer(serializers.Serializer[Any]):
    flow_run = ClaimedFlowRunSerializer()
    lease_expires_at = serializers.DateTimeField()
    run_token = serializers.CharField(help_text="The run's own token, for its process instead of the agent's key.")


class ClaimResultSerializer(serializers.Serializer[Any]):
    runs = ClaimedRunSerializer(many=True)
    retry_after_seconds = serializers.FloatField(
        help_text="0, or, when the server refused this long-poll its wait (too many waiting) and it claimed "
        "nothing: how long to wait before the next claim."
    )


class HeartbeatRunSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    epoch = serializers.IntegerField(min_value=0)


class HeartbeatSerializer(serializers.Serializer[Any]):
    runs = serializers.ListField(
        child=HeartbeatRunSerializer(), required=False, default=list, max_length=HEARTBEAT_RUNS_MAX
    )


class HeartbeatResultSerializer(serializers.Serializer[Any]):
    renewed = serializers.ListField(child=serializers.UUIDField())
    lost = serializers.ListField(child=serializers.UUIDField())
    cancel = serializers.ListField(child=serializers.UUIDField())


def claimed_run_body(claimed: ClaimedRun, *, pool: WorkPool) -> dict[str, Any]:
    run = claimed.run
    deployment = run.deployment
    return {
        "flow_run": {
            "id": str(run.id),
            # Which infrastructure the agent starts it on (tether.agent.infrastructure).
            "infrastructure": pool.type,
            "name": run.name,
            "parameters": run.parameters,
            "tags": run.tags,
            "epoch": run.epoch,
            "flow_name": run.flow.name,
            "deployment": None
            if deployment is None
            else {
                "id": str(deployment.id),
                "name": deployment.name,
                "entrypoint": deployment.entrypoint,
                "source": deployment.source,
                # Resolved: the pool's defaults, the deployment's values, the run's own over them.
                "job_variables": resolved_job_variables(pool, run.job_variables),
            },
        },
        "lease_expires_at": claimed.lease_expires_at.isoformat().replace("+00:00", "Z"),
        "run_token": claimed.run_token,
    }


class AgentViewSet(mixins.ListModelMixin, WorkspaceViewSet):
    """Agents of the workspace, and the dispatch protocol they speak (docs/dispatch.md)."""

    serializer_class = AgentSerializer
    pagination_class = TetherCursorPagination
    scope_map = {"GET": Scope.WORKSPACE_READ, "POST": Scope.RUNS_CLAIM}

    def safely_get_queryset(self) -> QuerySet[Agent]:
        return agents_list()

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "now": timezone.now(), "timings": dispatch_timings()}

    @extend_schema(request=HelloSerializer, responses=HelloResultSerializer)
    @action(detail=False, methods=["post"])
    def hello(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Register (or re-register, by name and pool) an agent; answers its id and the fleet's timings."""
        data = HelloSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        agent = agent_hello(
            workspace=self.access.workspace,
            name=values["name"],
            pool_name=values["pool"],
            queues=values["queues"],
            capacity=values["capacity"],
            version=values["version"],
        )
        return Response({"agent_id": str(agent.id), "timings": dispatch_timings().as_dict()})

    @extend_schema(request=ClaimSerializer, responses=ClaimResultSerializer)
    @action(detail=True, methods=["post"])
    def claim(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Take up to `capacity` due runs, each with a lease, a new epoch and a run token.

        With `wait_seconds` (≤ 30) and nothing due, the request waits until a run is due or
        the time is up (a long-poll), then answers (possibly `{"runs": []}`). A server holds
        only so many waiting claims at once: beyond that a long-poll answers at once, and when
        it claimed nothing `retry_after_seconds` (> 0) says how long to wait before claiming again.
        """
        agent = self.get_object()
        data = ClaimSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        answer = agent_claim_waiting(
            agent=agent, capacity=data.validated_data["capacity"], wait_seconds=data.validated_data["wait_seconds"]
        )
        return Response(
            {
                "runs": [claimed_run_body(item, pool=agent.pool) for item in answer.runs],
                "retry_after_seconds": answer.retry_after_seconds,
            }
        )

    @extend_schema(request=HeartbeatSerializer, responses=HeartbeatResultSerializer)
    @action(detail=True, methods=["post"])
    def heartbeat(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Renew every lease the agent holds at the reported epoch; lists the runs it lost and those to cancel."""
        agent = self.get_object()
        data = HeartbeatSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = agent_heartbeat(agent=agent, runs=[(r["id"], r["epoch"]) for r in data.validated_data["runs"]])
        return Response(
            {
                "renewed": [str(i) for i in result.renewed],
                "lost": [str(i) for i in result.lost],
                "cancel": [str(i) for i in result.cancel],
            }
        )
