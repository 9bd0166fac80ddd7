"""The ecs infrastructure: one AWS ECS task per run (Fargate by default), followed until it stops.

Needs boto3 (`pip install 'tether[ecs]'`), imported only when an ecs pool is served. The
account comes from the `aws_credentials` job variable (an aws-credentials block, resolved by
the agent before the run starts) or, without one, boto3's usual chain (environment, profile,
instance or task role).

The code is in the image. A task definition holds only what is the same for every run of a
deployment (image, cpu/memory, roles, logging), so one revision serves many runs: it is reused
while it matches and a new revision is registered when it does not. Everything specific to a
run (the engine's command with the run id, the environment with the run's token) travels in
the RunTask request's `overrides`: task definitions are immutable, kept forever and readable by
anyone allowed to describe them, so the token never goes there.

`customizations` (JSON Patch) apply to the RunTask request as built by `run_task_request`:
the keyword arguments of boto3's `run_task`, i.e. the body of the ECS RunTask API.

`payloads` builds the requests (pure), `handle` follows a started task; this module talks to AWS.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from tether.agent.infrastructure.base import InfrastructureError, RunSpec
from tether.agent.infrastructure.ecs.handle import EcsHandle, aws_error, botocore_errors, error_code
from tether.agent.infrastructure.ecs.payloads import (
    DEFAULT_LOG_GROUP,
    DEFAULT_STREAM_PREFIX,
    container_name_of,
    definition_matches,
    family_name,
    region_of,
    run_task_request,
    task_definition,
)

logger = logging.getLogger(__name__)

DEFAULT_START_TIMEOUT = 300.0
DEFAULT_POLL_SECONDS = 5.0
MAX_CACHED_CLIENTS = 8


def _boto3() -> Any:
    try:
        import boto3  # type: ignore[import-untyped]
    except ImportError as exc:
        raise InfrastructureError(
            "This pool runs flows as AWS ECS tasks: install the agent with `pip install 'tether[ecs]'`."
        ) from exc
    return boto3


class EcsInfrastructure:
    kind = "ecs"
    needs_local_code = False

    def __init__(self) -> None:
        # Clients by account, region and endpoint: building one costs more than a run's API calls.
        self._cache: dict[tuple[Any, ...], tuple[Any, Any]] = {}
        self._lock = threading.Lock()

    def _clients(self, spec: RunSpec) -> tuple[Any, Any]:
        boto3 = _boto3()
        from botocore.config import Config  # type: ignore[import-untyped]

        credentials = spec.job_variables.get("aws_credentials")
        session_arguments: dict[str, Any] = {}
        endpoint_url: str | None = None
        if isinstance(credentials, Mapping):
            for key in ("aws_access_key_id", "aws_secret_access_key", "aws_session_token"):
                if credentials.get(key):
                    session_arguments[key] = str(credentials[key])
            endpoint_url = str(credentials["endpoint_url"]) if credentials.get("endpoint_url") else None
        elif credentials:
            raise InfrastructureError(
                "`aws_credentials` must reference an aws-credentials block ('{{ block.aws-credentials.NAME }}')."
            )
        cache_key = (tuple(sorted(session_arguments.items())), region_of(spec), endpoint_url)
        with self._lock:
            if cache_key in self._cache:
                return self._cache[cache_key]
        session = boto3.session.Session(region_name=region_of(spec), **session_arguments)
        config = Config(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=10, read_timeout=60)
        try:
            ecs = session.client("ecs", endpoint_url=endpoint_url, config=config)
            logs_client = session.client("logs", endpoint_url=endpoint_url, config=config)
        except botocore_errors().NoRegionError as exc:
            raise aws_error("create the ECS client", exc) from exc
        with self._lock:
            if len(self._cache) >= MAX_CACHED_CLIENTS:
                self._cache.pop(next(iter(self._cache)))
            self._cache[cache_key] = (ecs, logs_client)
        return ecs, logs_client

    def _task_definition_arn(self, ecs: Any, spec: RunSpec) -> str:
        """The `task_definition_arn` variable, the family's latest revision if it matches, or a new revision."""
        given = spec.job_variables.get("task_definition_arn")
        if given:
            return str(given)
        desired = task_definition(spec, region=ecs.meta.region_name)
        errors = botocore_errors()
        try:
            current = ecs.describe_task_definition(taskDefinition=desired["family"])["taskDefinition"]
        except errors.ClientError as exc:
            if error_code(exc) != "ClientException":  # ClientException: no such family yet
                raise aws_error("describe the task definition", exc) from exc
            current = None
        if current is not None and definition_matches(desired, current):
            return str(current["taskDefinitionArn"])
        registered = ecs.register_task_definition(**desired)["taskDefinition"]
        logger.info("Registered task definition %s.", registered["taskDefinitionArn"])
        return str(registered["taskDefinitionArn"])

    def start(self, spec: RunSpec) -> EcsHandle:
        variables = spec.job_variables
        # Bad variables or a bad patch fail here, before anything is registered.
        run_task_request(spec, str(variables.get("task_definition_arn") or "<registered next>"))
        ecs, logs_client = self._clients(spec)
        errors = botocore_errors()
        try:
            arn = self._task_definition_arn(ecs, spec)
            request = run_task_request(spec, arn)
            response = ecs.run_task(**request)
        except (errors.ClientError, errors.BotoCoreError) as exc:
            raise aws_error("start the task", exc) from exc
        failures = response.get("failures") or []
        tasks = response.get("tasks") or []
        if failures or not tasks:
            described = "; ".join(
                f"{failure.get('reason', 'unknown')}" + (f" ({failure['detail']})" if failure.get("detail") else "")
                for failure in failures
            )
            raise InfrastructureError(f"ECS could not place the task: {described or 'no task was started'}.")
        task = tasks[0]
        container_name = container_name_of(variables)
        log_stream = None
        if variables.get("cloudwatch_logs"):
            prefix = str(variables.get("stream_prefix") or DEFAULT_STREAM_PREFIX)
            task_id = str(task["taskArn"]).rsplit("/", 1)[-1]
            group = str(variables.get("log_group") or DEFAULT_LOG_GROUP)
            log_stream = (group, f"{prefix}/{container_name}/{task_id}")
        return EcsHandle(
            ecs=ecs,
            logs_client=logs_client,
            cluster=str(task.get("clusterArn") or request.get("cluster") or "default"),
            task_arn=str(task["taskArn"]),
            container_name=container_name,
            poll_seconds=float(variables.get("poll_interval_seconds") or DEFAULT_POLL_SECONDS),
            start_timeout=float(variables.get("task_start_timeout_seconds") or DEFAULT_START_TIMEOUT),
            log_stream=log_stream,
        )


__all__ = [
    "EcsHandle",
    "EcsInfrastructure",
    "definition_matches",
    "family_name",
    "run_task_request",
    "task_definition",
]
