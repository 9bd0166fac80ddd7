"""Job variables of the serverless pool types: AWS ECS, Google Cloud Run jobs, Azure Container Instances.

Each names the cloud account only through a credentials block (`{{ block.aws-credentials.prod }}`),
resolved by the agent when a run starts, so nothing about the account is stored in clear here.
`customizations` (JSON Patch) reaches any field of the provider's request these do not cover.
"""

from __future__ import annotations

from typing import Any

from controlplane.workpools.customizations import CUSTOMIZATIONS_SCHEMA

_ENV = {
    "type": "object",
    "additionalProperties": {
        "anyOf": [{"type": ["string", "number", "boolean"]}, {"type": "object", "required": ["$ref"]}]
    },
    "title": "Environment",
    "description": "Extra environment variables of the run.",
}
_BLOCK = {
    "anyOf": [{"type": "string", "minLength": 1}, {"type": "object", "required": ["$ref"]}],
    "description": "A credentials block: '{{ block.<type>.<name> }}' or a $ref object.",
}
_IMAGE = {"type": "string", "minLength": 1, "title": "Image", "description": "An image that holds the code."}
_STRINGS = {"type": "array", "items": {"type": "string", "minLength": 1}}
_START_TIMEOUT = {"type": "integer", "minimum": 1, "default": 300, "title": "Seconds to wait for the run to start"}
_POLL = {"type": "number", "minimum": 0.05, "maximum": 60, "default": 5, "title": "Seconds between status polls"}

ECS_VARIABLES: dict[str, Any] = {
    "type": "object",
    "properties": {
        "image": _IMAGE,
        "aws_credentials": _BLOCK,
        "region": {"type": "string"},
        "cluster": {"type": "string", "description": "Cluster name or ARN (default: the account's default)."},
        "launch_type": {"type": "string", "enum": ["FARGATE", "FARGATE_SPOT", "EC2", "EXTERNAL"], "default": "FARGATE"},
        "capacity_provider_strategy": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "capacityProvider": {"type": "string"},
                    "weight": {"type": "integer"},
                    "base": {"type": "integer"},
                },
                "required": ["capacityProvider"],
            },
            "description": "Used instead of launch_type when given.",
        },
        "task_definition_arn": {"type": "string", "description": "Use this task definition; none is registered."},
        "family": {"type": "string", "description": "Task definition family (default: tether-<deployment>)."},
        "container_name": {"type": "string", "default": "tether"},
        "cpu": {"type": ["string", "integer"], "default": "1024"},
        "memory": {"type": ["string", "integer"], "default": "2048"},
        "subnets": _STRINGS,
        "security_groups": _STRINGS,
        "assign_public_ip": {"type": "string", "enum": ["ENABLED", "DISABLED"], "default": "ENABLED"},
        "task_role_arn": {"type": "string"},
        "execution_role_arn": {"type": "string"},
        "env": _ENV,
        "cloudwatch_logs": {"type": "boolean", "default": False, "description": "Follow the run's CloudWatch logs."},
        "log_group": {"type": "string", "default": "/tether/runs"},
        "stream_prefix": {"type": "string", "default": "tether"},
        "task_start_timeout_seconds": _START_TIMEOUT,
        "poll_interval_seconds": _POLL,
        "customizations": CUSTOMIZATIONS_SCHEMA,
    },
    "required": ["image"],
    "additionalProperties": False,
}

CLOUD_RUN_VARIABLES: dict[str, Any] = {
    "type": "object",
    "properties": {
        "image": _IMAGE,
        "credentials": _BLOCK,
        "project": {"type": "string", "description": "Default: the service account's project."},
        "region": {"type": "string", "default": "us-central1"},
        "cpu": {"type": "string", "default": "1"},
        "memory": {"type": "string", "default": "512Mi"},
        "env": _ENV,
        "service_account_name": {"type": "string", "description": "The identity the job runs as."},
        "vpc_connector_name": {"type": "string"},
        "timeout_seconds": {"type": "integer", "minimum": 1, "maximum": 86400, "default": 3600},
        "max_retries": {"type": "integer", "minimum": 0, "maximum": 10, "default": 0},
        "keep_job": {"type": "boolean", "default": False, "description": "Keep the job after the run ended."},
        "job_start_timeout_seconds": _START_TIMEOUT,
        "poll_interval_seconds": _POLL,
        "api_url": {"type": "string", "description": "Override the API endpoint (tests, private service connect)."},
        "customizations": CUSTOMIZATIONS_SCHEMA,
    },
    "required": ["image"],
    "additionalProperties": False,
}

ACI_VARIABLES: dict[str, Any] = {
    "type": "object",
    "properties": {
        "image": _IMAGE,
        "credentials": _BLOCK,
        "subscription_id": {"type": "string", "minLength": 1},
        "resource_group_name": {"type": "string", "minLength": 1},
        "location": {"type": "string", "default": "eastus"},
        "cpu": {"type": "number", "exclusiveMinimum": 0, "default": 1},
        "memory": {"type": "number", "exclusiveMinimum": 0, "default": 1.5, "description": "GiB"},
        "env": _ENV,
        "image_registry": {
            "type": "object",
            "description": "Registry login (server, username, password); the password may be a block reference.",
        },
        "identities": _STRINGS,
        "subnet_ids": _STRINGS,
        "dns_servers": _STRINGS,
        "keep_container_group": {"type": "boolean", "default": False},
        "task_start_timeout_seconds": _START_TIMEOUT,
        "poll_interval_seconds": _POLL,
        "api_url": {"type": "string", "description": "Override the ARM endpoint (tests, sovereign clouds)."},
        "customizations": CUSTOMIZATIONS_SCHEMA,
    },
    "required": ["image", "subscription_id", "resource_group_name"],
    "additionalProperties": False,
}
