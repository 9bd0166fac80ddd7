"""Job variables: what a deployment (or a run) may set about where its code runs.

Each pool type has a JSON Schema of its variables (below); a pool's `base_job_template` may
replace it (`{"variables": <schema>}`) to narrow what deployments may set or to give defaults
(an image, a namespace). Deployments are checked against the pool's schema with its
defaults applied, so `image` may be required yet given once on the pool. Agents receive the
resolved values with each claimed run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from controlplane.core.errors import ValidationFailed
from controlplane.flows.parameters import MAX_REPORTED_ERRORS, serialized_size
from controlplane.workpools.customizations import check_customizations
from controlplane.workpools.models import WorkPool, WorkPoolType
from controlplane.workpools.serverless_variables import ACI_VARIABLES, CLOUD_RUN_VARIABLES, ECS_VARIABLES

JOB_VARIABLES_MAX_BYTES = 64 * 1024

_STRING_MAP = {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}}
# A value, or a block reference the agent resolves just in time (controlplane/blocks/references.py).
_ENV_VALUE = {"anyOf": [{"type": ["string", "number", "boolean"]}, {"type": "object", "required": ["$ref"]}]}
_ENV = {
    "type": "object",
    "additionalProperties": _ENV_VALUE,
    "title": "Environment",
    "description": "Extra environment variables of the run.",
}
_PULL_POLICY = {
    "type": "string",
    "enum": ["always", "if_not_present", "never"],
    "default": "if_not_present",
    "title": "Image pull policy",
}
_QUANTITIES = {
    "type": "object",
    "properties": {"cpu": {"type": ["string", "number"]}, "memory": {"type": "string"}},
    "additionalProperties": {"type": ["string", "number"]},
}

PROCESS_VARIABLES: dict[str, Any] = {
    "type": "object",
    "properties": {"env": _ENV},
    "additionalProperties": False,
}

DOCKER_VARIABLES: dict[str, Any] = {
    "type": "object",
    "properties": {
        "image": {"type": "string", "minLength": 1, "title": "Image", "description": "e.g. registry/flows:1.4.2"},
        "image_pull_policy": _PULL_POLICY,
        "env": _ENV,
        "volumes": {
            "type": "array",
            "items": {"type": "string", "pattern": r"^[^:]+:[^:]+(:(ro|rw))?$"},
            "description": "host_path:container_path[:ro|rw]",
        },
        "network": {"type": "string", "description": "Docker network the container joins."},
        "mount_source": {
            "type": "boolean",
            "default": True,
            "description": "Mount the code the agent prepared (git checkout or path) read-only at /opt/tether/flow.",
        },
        "working_dir": {"type": "string"},
        "labels": _STRING_MAP,
        "mem_limit": {"type": "string", "pattern": r"^[0-9]+[bkmg]?$"},
        "user": {"type": "string"},
        "auto_remove": {"type": "boolean", "default": True, "description": "Remove the container once it ended."},
    },
    "required": ["image"],
    "additionalProperties": False,
}

KUBERNETES_VARIABLES: dict[str, Any] = {
    "type": "object",
    "properties": {
        "image": {"type": "string", "minLength": 1, "title": "Image", "description": "An image that holds the code."},
        "image_pull_policy": _PULL_POLICY,
        "namespace": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "default": "default"},
        "service_account_name": {"type": "string"},
        "env": _ENV,
        "resources": {
            "type": "object",
            "properties": {"requests": _QUANTITIES, "limits": _QUANTITIES},
            "additionalProperties": False,
        },
        "node_selector": _STRING_MAP,
        "labels": _STRING_MAP,
        "working_dir": {"type": "string"},
        "ttl_seconds_after_finished": {"type": "integer", "minimum": 0, "default": 300},
        "pod_start_timeout_seconds": {"type": "integer", "minimum": 1, "default": 300},
    },
    "required": ["image"],
    "additionalProperties": False,
}

SCHEMAS: dict[str, dict[str, Any]] = {
    WorkPoolType.PROCESS: PROCESS_VARIABLES,
    WorkPoolType.DOCKER: DOCKER_VARIABLES,
    WorkPoolType.KUBERNETES: KUBERNETES_VARIABLES,
    WorkPoolType.ECS: ECS_VARIABLES,
    WorkPoolType.CLOUD_RUN: CLOUD_RUN_VARIABLES,
    WorkPoolType.ACI: ACI_VARIABLES,
}


def variables_schema(pool: WorkPool) -> dict[str, Any]:
    variables = (pool.base_job_template or {}).get("variables")
    return variables if isinstance(variables, dict) and variables else SCHEMAS.get(pool.type, PROCESS_VARIABLES)


def schema_defaults(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The top-level `default`s of a variables schema."""
    properties = schema.get("properties")
    if not isinstance(properties, Mapping):
        return {}
    return {
        name: prop["default"] for name, prop in properties.items() if isinstance(prop, Mapping) and "default" in prop
    }


def resolved_job_variables(pool: WorkPool | None, values: Mapping[str, Any]) -> dict[str, Any]:
    """The pool's defaults with `values` over them: what an agent runs with."""
    if pool is None:
        return dict(values)
    return {**schema_defaults(variables_schema(pool)), **values}


def _paths(error: Any) -> list[str]:
    """`job_variables.a.b[2]` for the value in error; the missing or extra keys for an object."""
    path = "job_variables"
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    instance = error.instance if isinstance(error.instance, Mapping) else {}
    if error.validator == "required":
        return [f"{path}.{name}" for name in error.validator_value if name not in instance] or [path]
    if error.validator == "additionalProperties":
        known = set((error.schema.get("properties") or {}).keys())
        return [f"{path}.{name}" for name in instance if name not in known] or [path]
    return [path]


def check_job_variables(pool: WorkPool | None, values: Any) -> None:
    """422 naming each wrong field (`job_variables.resources.limits.cpu`) if `values` do not fit the pool."""
    if not isinstance(values, Mapping):
        raise ValidationFailed("job_variables must be an object.", details={"job_variables": ["Expected an object."]})
    size = serialized_size(values)
    if size > JOB_VARIABLES_MAX_BYTES:
        raise ValidationFailed(
            f"job_variables are limited to {JOB_VARIABLES_MAX_BYTES} bytes of JSON; these are {size} bytes.",
            details={"limit_bytes": JOB_VARIABLES_MAX_BYTES, "size_bytes": size},
        )
    check_customizations(values.get("customizations"))
    if pool is None:
        return
    schema = variables_schema(pool)
    validator = Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(resolved_job_variables(pool, values)), key=lambda e: list(e.absolute_path))
    if not errors:
        return
    details: dict[str, list[str]] = {}
    for error in errors[:MAX_REPORTED_ERRORS]:
        for path in _paths(error):
            details.setdefault(path, []).append(str(error.message)[:300])
    first = next(iter(details))
    raise ValidationFailed(
        f"job_variables do not fit work pool {pool.name!r} ({pool.type}): {first}: {details[first][0]}",
        details=details,
    )
