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
        "aws_credentials": {
            **_BLOCK,
            "description": "An aws-credentials block ('{{ block.aws-credentials.NAME }}'); "
            "without one, the agent's own AWS credentials (environment, profile, instance or task role).",
        },
        "region": {"type": "string", "description": "AWS region (default: the block's region_name, else the agent's)."},
        "cluster": {"type": "string", "description": "Cluster name or ARN (default: the account's default)."},
        "launch_type": {
            "type": "string",
            "enum": ["FARGATE", "FARGATE_SPOT", "EC2", "EXTERNAL"],
            "default": "FARGATE",
            "description": "FARGATE_SPOT is sent as the FARGATE_SPOT capacity provider.",
        },
        "capacity_provider_strategy": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "capacityProvider": {"type": "string", "minLength": 1},
                    "weight": {"type": "integer", "minimum": 0},
                    "base": {"type": "integer", "minimum": 0},
                },
                "required": ["capacityProvider"],
                "additionalProperties": False,
            },
            "description": "Used instead of launch_type when given.",
        },
        "task_definition_arn": {
            "type": "string",
            "minLength": 1,
            "description": "Run this task definition as is (none is registered); its container must be container_name.",
        },
        "family": {
            "type": "string",
            "pattern": "^[A-Za-z0-9_-]{1,255}$",
            "description": "Task definition family (default: tether-<image name>).",
        },
        "container_name": {"type": "string", "minLength": 1, "default": "tether"},
        "cpu": {"type": ["string", "integer"], "default": "1024", "description": "Task CPU units (1024 = 1 vCPU)."},
        "memory": {"type": ["string", "integer"], "default": "2048", "description": "Task memory in MiB."},
        "subnets": {**_STRINGS, "description": "VPC subnets of the task (required for Fargate)."},
        "security_groups": {**_STRINGS, "description": "Default: the VPC's default security group."},
        "assign_public_ip": {
            "type": "string",
            "enum": ["ENABLED", "DISABLED"],
            "default": "ENABLED",
            "description": "DISABLED in private subnets (they reach ECR and Tether through a NAT or endpoints).",
        },
        "task_role_arn": {"type": "string", "description": "The role the flow's code runs as."},
        "execution_role_arn": {
            "type": "string",
            "description": "The role ECS uses to pull the image and write logs (needed for ECR and cloudwatch_logs).",
        },
        "env": _ENV,
        "cloudwatch_logs": {
            "type": "boolean",
            "default": False,
            "description": "Send the container's output to CloudWatch (awslogs) and follow it in the agent's log.",
        },
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
        "credentials": {**_BLOCK, "description": "A gcp-credentials block: '{{ block.gcp-credentials.<name> }}'."},
        "project": {"type": "string", "description": "Default: the block's project, else the key's project_id."},
        "region": {"type": "string", "default": "us-central1"},
        "cpu": {"type": "string", "default": "1", "description": "CPU limit of the container, e.g. '1', '2', '1000m'."},
        "memory": {"type": "string", "default": "512Mi", "description": "Memory limit of the container, e.g. '2Gi'."},
        "env": _ENV,
        "service_account_name": {"type": "string", "description": "The identity the job runs as (an email)."},
        "vpc_connector_name": {"type": "string", "description": "A Serverless VPC Access connector (full name)."},
        "timeout_seconds": {"type": "integer", "minimum": 1, "maximum": 86400, "default": 3600},
        "max_retries": {"type": "integer", "minimum": 0, "maximum": 10, "default": 0},
        "keep_job": {"type": "boolean", "default": False, "description": "Keep the job after the run ended."},
        "job_start_timeout_seconds": _START_TIMEOUT,
        "poll_interval_seconds": _POLL,
        "api_url": {"type": "string", "description": "Override the API endpoint (tests, private service connect)."},
        "customizations": {
            **CUSTOMIZATIONS_SCHEMA,
            "description": (
                "JSON Patch (RFC 6902) operations applied to the Cloud Run Job resource before it is created, "
                'e.g. [{"op": "add", "path": "/template/template/executionEnvironment", '
                '"value": "EXECUTION_ENVIRONMENT_GEN2"}].'
            ),
        },
    },
    "required": ["image"],
    "additionalProperties": False,
}

ACI_VARIABLES: dict[str, Any] = {
    "type": "object",
    "properties": {
        "image": _IMAGE,
        "credentials": {**_BLOCK, "description": "An azure-credentials block: '{{ block.azure-credentials.<name> }}'."},
        "subscription_id": {"type": "string", "minLength": 1},
        "resource_group_name": {"type": "string", "minLength": 1},
        "location": {"type": "string", "default": "eastus"},
        "cpu": {"type": "number", "exclusiveMinimum": 0, "default": 1},
        "memory": {"type": "number", "exclusiveMinimum": 0, "default": 1.5, "description": "GiB"},
        "env": _ENV,
        "image_registry": {
            "type": "object",
            "properties": {
                "server": {"type": "string", "minLength": 1},
                "username": {"type": "string"},
                "password": {"anyOf": [{"type": "string"}, {"type": "object", "required": ["$ref"]}]},
                "identity": {"type": "string", "description": "A user-assigned identity that may pull the image."},
            },
            "required": ["server"],
            "description": "Registry login (server, username, password); the password may be a block reference.",
        },
        "identities": {**_STRINGS, "description": "Resource ids of user-assigned managed identities."},
        "subnet_ids": {**_STRINGS, "description": "Resource ids of subnets (delegated to ACI) to run in."},
        "dns_servers": _STRINGS,
        "keep_container_group": {"type": "boolean", "default": False},
        "task_start_timeout_seconds": _START_TIMEOUT,
        "poll_interval_seconds": _POLL,
        "api_url": {"type": "string", "description": "Override the ARM endpoint (tests, sovereign clouds)."},
        "login_url": {
            "type": "string",
            "description": "Override the Microsoft Entra login endpoint (tests, sovereign clouds).",
        },
        "customizations": {
            **CUSTOMIZATIONS_SCHEMA,
            "description": (
                "JSON Patch (RFC 6902) operations applied to the container group before it is created, "
                'e.g. [{"op": "add", "path": "/properties/priority", "value": "Spot"}].'
            ),
        },
    },
    "required": ["image", "subscription_id", "resource_group_name"],
    "additionalProperties": False,
}
