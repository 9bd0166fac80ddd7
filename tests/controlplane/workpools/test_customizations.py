"""`customizations` (JSON Patch) are checked when a deployment or a pool is saved: a mistake is a 422 naming it."""

from __future__ import annotations

from typing import Any

import pytest

from controlplane.core.errors import ValidationFailed
from controlplane.core.tenancy import tenant_scope
from controlplane.flows.models import Deployment
from controlplane.workpools.customizations import MAX_OPERATIONS, check_customizations
from controlplane.workpools.job_variables import resolved_job_variables
from controlplane.workpools.models import WorkPool
from controlplane.workpools.services import work_pool_create
from tests.support.clients import session
from tests.support.tenants import World, actor_for

DEPLOYMENTS = "/api/v1/orgs/acme/workspaces/prod/deployments/"
POOLS = "/api/v1/orgs/acme/workspaces/prod/work-pools/"
IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/flows:1.2"
PRIVATE_NETWORK = [
    {"op": "replace", "path": "/networkConfiguration/awsvpcConfiguration/subnets", "value": ["subnet-p1"]},
    {"op": "add", "path": "/networkConfiguration/awsvpcConfiguration/securityGroups", "value": ["sg-1"]},
    {"op": "replace", "path": "/networkConfiguration/awsvpcConfiguration/assignPublicIp", "value": "DISABLED"},
]


def _ecs_pool(world: World, name: str = "ecs", base_job_template: dict[str, Any] | None = None) -> WorkPool:
    with tenant_scope(organization_id=world.prod.organization_id, workspace_id=world.prod.id):
        return work_pool_create(
            actor=actor_for(world.alice),
            workspace=world.prod,
            name=name,
            type="ecs",
            base_job_template=base_job_template,
        )


def _deploy(world: World, job_variables: Any, *, pool: str = "ecs", name: str = "nightly") -> Any:
    body = {"flow_name": "etl", "name": name, "entrypoint": "etl.py:etl", "work_pool_name": pool}
    return session(world.alice).post(DEPLOYMENTS, {**body, "job_variables": job_variables}, format="json")


def _error(response: Any) -> dict[str, Any]:
    assert response.status_code == 422, response.content
    error: dict[str, Any] = response.json()["error"]
    return error


def test_a_deployment_with_an_invalid_patch_is_refused_naming_the_operation(world: World) -> None:
    _ecs_pool(world)
    customizations = [*PRIVATE_NETWORK, {"op": "add", "path": "/platformVersion"}]
    error = _error(_deploy(world, {"image": IMAGE, "customizations": customizations}))
    assert error["message"] == (
        'Invalid JSON Patch operation job_variables.customizations[3] {"op": "add", "path": "/platformVersion"}: '
        "'add' needs a 'value'"
    )
    assert error["details"] == {
        "job_variables.customizations[3]": ['{"op": "add", "path": "/platformVersion"}: \'add\' needs a \'value\'']
    }
    assert Deployment.dangerously_unscoped.count() == 0


@pytest.mark.parametrize(
    ("operation", "reason"),
    [
        ({"op": "merge", "path": "/cluster", "value": "x"}, "unknown op 'merge'"),
        ({"path": "/cluster", "value": "x"}, "unknown op None"),
        ({"op": "replace", "path": "cluster", "value": "x"}, "'path' must be a JSON pointer"),
        ({"op": "remove", "path": "/tags/~2"}, "'path' must be a JSON pointer"),
        ({"op": "test", "path": "/cluster"}, "'test' needs a 'value'"),
        ({"op": "move", "path": "/a"}, "'move' needs 'from', a JSON pointer"),
        ({"op": "copy", "path": "/a", "from": "b"}, "'copy' needs 'from', a JSON pointer"),
        ({"op": "remove", "path": "/a", "value": 1, "comment": "why"}, "unknown member(s) comment"),
        ("remove /a", "an operation is an object"),
    ],
)
def test_every_malformed_operation_is_named_with_its_reason(world: World, operation: Any, reason: str) -> None:
    _ecs_pool(world)
    error = _error(_deploy(world, {"image": IMAGE, "customizations": [PRIVATE_NETWORK[0], operation]}))
    assert list(error["details"]) == ["job_variables.customizations[1]"]
    assert error["message"].startswith("Invalid JSON Patch operation job_variables.customizations[1] ")
    assert reason in error["message"]
    if isinstance(operation, dict) and "op" in operation:
        assert f'"op": "{operation["op"]}", "path": "{operation["path"]}"' in error["message"]


def test_customizations_must_be_a_list(world: World) -> None:
    _ecs_pool(world)
    error = _error(_deploy(world, {"image": IMAGE, "customizations": {"op": "add"}}))
    assert error["details"] == {"job_variables.customizations": ["Expected a list."]}


def test_too_many_operations_are_refused(world: World) -> None:
    _ecs_pool(world)
    operations = [{"op": "add", "path": f"/tags/{i}", "value": {}} for i in range(MAX_OPERATIONS + 1)]
    assert (
        "job_variables.customizations"
        in _error(_deploy(world, {"image": IMAGE, "customizations": operations}))["details"]
    )


def test_a_valid_patch_is_accepted_and_reaches_the_agent_as_written(world: World) -> None:
    pool = _ecs_pool(world)
    variables = {"image": IMAGE, "subnets": ["subnet-public"], "customizations": PRIVATE_NETWORK}
    response = _deploy(world, variables)
    assert response.status_code == 201, response.content
    assert response.json()["job_variables"] == variables
    resolved = resolved_job_variables(pool, variables)
    assert resolved["customizations"] == PRIVATE_NETWORK
    assert (resolved["launch_type"], resolved["container_name"], resolved["assign_public_ip"]) == (
        "FARGATE",
        "tether",
        "ENABLED",
    )


def test_ecs_job_variables_are_checked_against_the_ecs_schema(world: World) -> None:
    _ecs_pool(world)
    error = _error(_deploy(world, {"image": IMAGE, "launch_type": "LAMBDA", "assign_public_ip": "yes", "replicas": 2}))
    assert set(error["details"]) == {
        "job_variables.launch_type",
        "job_variables.assign_public_ip",
        "job_variables.replicas",
    }


def test_a_pool_template_default_is_checked_too(world: World) -> None:
    template: dict[str, Any] = {
        "variables": {
            "type": "object",
            "properties": {
                "image": {"type": "string", "default": IMAGE},
                "customizations": {"type": "array", "default": [{"op": "replace", "path": "/cluster"}]},
            },
        }
    }
    response = session(world.alice).post(
        POOLS, {"name": "ecs-private", "type": "ecs", "base_job_template": template}, format="json"
    )
    error = _error(response)
    field = "base_job_template.variables.properties.customizations.default[0]"
    assert error["details"] == {field: ['{"op": "replace", "path": "/cluster"}: \'replace\' needs a \'value\'']}
    assert WorkPool.dangerously_unscoped.count() == 0

    template["variables"]["properties"]["customizations"]["default"] = PRIVATE_NETWORK
    response = session(world.alice).post(
        POOLS, {"name": "ecs-private", "type": "ecs", "base_job_template": template}, format="json"
    )
    assert response.status_code == 201, response.content
    # A deployment that sets nothing inherits the pool's customizations.
    assert _deploy(world, {}, pool="ecs-private").status_code == 201
    pool = WorkPool.dangerously_unscoped.get(name="ecs-private")
    assert resolved_job_variables(pool, {})["customizations"] == PRIVATE_NETWORK


def test_the_check_names_only_the_first_problem_in_its_message_but_every_one_in_details() -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_customizations([{"op": "nope", "path": "/a"}, PRIVATE_NETWORK[0], {"op": "remove", "path": "x"}])
    assert set(caught.value.details) == {"job_variables.customizations[0]", "job_variables.customizations[2]"}
    assert "customizations[0]" in str(caught.value.message)
    check_customizations(None)
    check_customizations([])
    check_customizations(PRIVATE_NETWORK)
