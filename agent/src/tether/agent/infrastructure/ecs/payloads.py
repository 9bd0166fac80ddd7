"""The ECS requests a run needs, built from its job variables (pure: tested against expected payloads).

`task_definition` holds only what every run of a deployment shares, so one revision serves many
runs; `run_task_request` carries what is the run's own (its command, its environment with the
run's token) in `overrides`, and applies the `customizations` JSON Patch to the whole request.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tether.agent.infrastructure.base import InfrastructureError, RunSpec
from tether.agent.infrastructure.patching import apply_patch

MANAGED_BY_TAG = "tether.io/managed-by"
RUN_TAG = "tether.io/flow-run-id"
STARTED_BY = "tether"
DEFAULT_CONTAINER = "tether"
DEFAULT_CPU = "1024"
DEFAULT_MEMORY = "2048"
DEFAULT_LOG_GROUP = "/tether/runs"
DEFAULT_STREAM_PREFIX = "tether"
LAUNCH_TYPES = frozenset({"FARGATE", "EC2", "EXTERNAL"})
_FAMILY_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def family_name(spec: RunSpec) -> str:
    """The `family` job variable, else `tether-<image name>` (the last path part, without tag or digest)."""
    family = spec.job_variables.get("family")
    if isinstance(family, str) and family:
        return family
    image = str(spec.job_variables.get("image") or "")
    name = image.split("@", 1)[0].rsplit("/", 1)[-1].split(":", 1)[0]
    slug = _FAMILY_UNSAFE.sub("-", name).strip("-")[:200]
    return f"tether-{slug}" if slug else "tether-flow"


def _strategy(variables: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    strategy = variables.get("capacity_provider_strategy")
    if strategy:
        return [dict(item) for item in strategy]
    if variables.get("launch_type") == "FARGATE_SPOT":  # a capacity provider, not a launch type
        return [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]
    return None


def _launch_type(variables: Mapping[str, Any]) -> str:
    launch_type = str(variables.get("launch_type") or "FARGATE")
    if launch_type not in LAUNCH_TYPES | {"FARGATE_SPOT"}:
        raise InfrastructureError(f"launch_type must be FARGATE, FARGATE_SPOT, EC2 or EXTERNAL, not {launch_type!r}.")
    return launch_type


def _on_fargate(variables: Mapping[str, Any]) -> bool:
    strategy = _strategy(variables)
    if strategy is not None and variables.get("capacity_provider_strategy"):
        return all(str(item.get("capacityProvider", "")).startswith("FARGATE") for item in strategy)
    return _launch_type(variables) in ("FARGATE", "FARGATE_SPOT")


def _awsvpc(variables: Mapping[str, Any]) -> bool:
    """Fargate tasks always use awsvpc networking; EC2 tasks do when subnets are given."""
    return _on_fargate(variables) or bool(variables.get("subnets"))


def container_name_of(variables: Mapping[str, Any]) -> str:
    return str(variables.get("container_name") or DEFAULT_CONTAINER)


def region_of(spec: RunSpec) -> str | None:
    region = spec.job_variables.get("region")
    if not region:
        credentials = spec.job_variables.get("aws_credentials")
        region = credentials.get("region_name") if isinstance(credentials, Mapping) else None
    return str(region) if region else None


def task_definition(spec: RunSpec, *, region: str | None = None) -> dict[str, Any]:
    """The RegisterTaskDefinition request for this run's deployment (pure: nothing in it is per run)."""
    variables = spec.job_variables
    image = variables.get("image")
    if not isinstance(image, str) or not image:
        raise InfrastructureError("An ecs pool needs an `image` job variable (on the pool or the deployment).")
    container_name = container_name_of(variables)
    cpu = str(variables.get("cpu") or DEFAULT_CPU)
    memory = str(variables.get("memory") or DEFAULT_MEMORY)
    container: dict[str, Any] = {"name": container_name, "image": image, "essential": True}
    if spec.working_dir is not None:
        # A `path` source names the code's directory in the image (RunTask cannot override it).
        container["workingDirectory"] = str(spec.working_dir)
    if memory.isdigit():
        # The container's hard limit is the task's memory (EC2 tasks need one of the two).
        container["memory"] = int(memory)
    if variables.get("cloudwatch_logs"):
        options = {
            "awslogs-group": str(variables.get("log_group") or DEFAULT_LOG_GROUP),
            "awslogs-stream-prefix": str(variables.get("stream_prefix") or DEFAULT_STREAM_PREFIX),
            "awslogs-create-group": "true",
        }
        region = region or region_of(spec)
        if region:
            options["awslogs-region"] = region
        container["logConfiguration"] = {"logDriver": "awslogs", "options": options}
    definition: dict[str, Any] = {
        "family": family_name(spec),
        "containerDefinitions": [container],
        "cpu": cpu,
        "memory": memory,
    }
    if _on_fargate(variables):
        definition["requiresCompatibilities"] = ["FARGATE"]
    elif _launch_type(variables) in ("EC2", "EXTERNAL"):
        definition["requiresCompatibilities"] = [_launch_type(variables)]
    if _awsvpc(variables):
        definition["networkMode"] = "awsvpc"
    for variable, field in (("task_role_arn", "taskRoleArn"), ("execution_role_arn", "executionRoleArn")):
        if variables.get(variable):
            definition[field] = str(variables[variable])
    return definition


def _network_configuration(variables: Mapping[str, Any]) -> dict[str, Any] | None:
    if not _awsvpc(variables):
        return None
    subnets = [str(subnet) for subnet in variables.get("subnets") or []]
    if not subnets:
        raise InfrastructureError("A Fargate task needs `subnets` (the VPC subnets its network interface goes in).")
    awsvpc: dict[str, Any] = {"subnets": subnets}
    groups = [str(group) for group in variables.get("security_groups") or []]
    if groups:
        awsvpc["securityGroups"] = groups
    awsvpc["assignPublicIp"] = str(variables.get("assign_public_ip") or "ENABLED")
    return {"awsvpcConfiguration": awsvpc}


def run_task_request(spec: RunSpec, task_definition_arn: str) -> dict[str, Any]:
    """The RunTask request for this run, `customizations` applied (pure: tested against expected payloads)."""
    variables = spec.job_variables
    env = {**spec.job_env(), **spec.env}  # the run's TETHER_* win over a job variable of the same name
    container_override = {
        "name": container_name_of(variables),
        "command": spec.engine_args(),
        "environment": [{"name": key, "value": env[key]} for key in sorted(env)],
    }
    request: dict[str, Any] = {}
    if variables.get("cluster"):
        request["cluster"] = str(variables["cluster"])
    request["taskDefinition"] = task_definition_arn
    request["count"] = 1
    strategy = _strategy(variables)
    if strategy is not None:
        request["capacityProviderStrategy"] = strategy
    else:
        request["launchType"] = _launch_type(variables)
    network = _network_configuration(variables)
    if network is not None:
        request["networkConfiguration"] = network
    request["overrides"] = {"containerOverrides": [container_override]}
    request["startedBy"] = STARTED_BY
    request["tags"] = [{"key": MANAGED_BY_TAG, "value": STARTED_BY}, {"key": RUN_TAG, "value": spec.flow_run_id}]
    customizations = variables.get("customizations") or []
    if not isinstance(customizations, list):
        raise InfrastructureError("`customizations` must be a list of JSON Patch operations.")
    result: dict[str, Any] = apply_patch(request, customizations)
    return result


_TASK_FIELDS = ("family", "cpu", "memory", "networkMode", "requiresCompatibilities", "taskRoleArn", "executionRoleArn")
_CONTAINER_FIELDS = ("name", "image", "memory", "workingDirectory", "logConfiguration")


def definition_matches(desired: Mapping[str, Any], registered: Mapping[str, Any]) -> bool:
    """Whether a registered revision has exactly the fields `task_definition` sets (AWS adds its own defaults)."""
    if registered.get("status", "ACTIVE") != "ACTIVE":
        return False
    for field in _TASK_FIELDS:
        if field == "networkMode":
            same = desired.get(field, "bridge") == registered.get(field, "bridge")
        elif field == "requiresCompatibilities":
            same = list(desired.get(field) or []) == list(registered.get(field) or [])
        else:
            same = desired.get(field) == registered.get(field)
        if not same:
            return False
    wanted, present = desired["containerDefinitions"], registered.get("containerDefinitions") or []
    if len(wanted) != len(present):
        return False
    for want, have in zip(wanted, present, strict=True):
        if any(want.get(field) != have.get(field) for field in _CONTAINER_FIELDS):
            return False
        if want.get("essential", True) != have.get("essential", True):
            return False
    return True
