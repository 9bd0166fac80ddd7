"""RELIABILITY 13: creating an object that references another tenant's block, pool, queue, deployment
(or flow, run, task run, automation) → 404/400/422 and nothing written.

Each request is sent twice by alice in acme/prod: first naming umbrella's object (refused,
nothing written, nothing of umbrella's echoed), then naming acme's own object of the same kind
(accepted) — so the refusal is the foreign reference's doing, not a malformed body.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

import pytest

from controlplane.automations.models import Automation
from controlplane.blocks.models import BlockDocument
from controlplane.flows.models import Deployment, Flow
from controlplane.runs.models import FlowRun, TaskRun
from controlplane.workpools.models import WorkPool, WorkQueue
from tests.support.clients import session
from tests.support.matrix import FACTORIES, table_counts
from tests.support.tenants import World

PROD = "/api/v1/orgs/acme/workspaces/prod"
Ids = dict[str, str]


def _objects(world: World) -> Ids:
    made = {model.__name__: FACTORIES[model](world) for model in (Deployment, Flow, FlowRun, TaskRun, Automation)}
    pool = FACTORIES[WorkPool](world)
    assert isinstance(pool, WorkPool)
    made["WorkPool"] = pool
    made["WorkQueue"] = FACTORIES[WorkQueue](world)
    made["BlockDocument"] = FACTORIES[BlockDocument](world)
    ids = {name: str(obj.pk) for name, obj in made.items()}
    ids["pool_name"] = pool.name
    return ids


def _umbrella(world: World) -> World:
    """The same factories, pointed at charlie's organisation and workspace."""
    return dataclasses.replace(world, alice=world.charlie, acme=world.umbrella, prod=world.umbrella_prod)


def _automation(action: dict[str, Any]) -> dict[str, Any]:
    return {"name": "auto", "trigger": {"expect": ["x.y"]}, "actions": [action]}


REQUESTS: dict[str, Callable[[Ids], tuple[str, Any]]] = {
    "run from a deployment": lambda ids: ("flow-runs/", {"deployment_id": ids["Deployment"]}),
    "subflow of a task run": lambda ids: ("flow-runs/", {"flow_name": "sub", "parent_task_run_id": ids["TaskRun"]}),
    "deployment of a flow": lambda ids: (
        "deployments/",
        {"flow_id": ids["Flow"], "name": "d", "entrypoint": "flows/a.py:main"},
    ),
    "deployment on a pool": lambda ids: (
        "deployments/",
        {"flow_name": "f", "name": "d", "entrypoint": "flows/a.py:main", "work_pool_name": ids["pool_name"]},
    ),
    "block referencing a block": lambda ids: (
        "blocks/",
        {
            "block_type_slug": "git-credentials",
            "name": "refers",
            "data": {"token": {"$ref": {"block_document_id": ids["BlockDocument"]}}},
        },
    ),
    "sla on a deployment": lambda ids: (
        "slas/",
        {
            "deployment_id": ids["Deployment"],
            "name": "sla",
            "kind": "complete_within",
            "seconds": 60,
            "actions": [{"type": "pause-deployment", "deployment_id": ids["Deployment"]}],
        },
    ),
    "automation running a deployment": lambda ids: (
        "automations/",
        _automation({"type": "run-deployment", "deployment_id": ids["Deployment"]}),
    ),
    "automation pausing a pool": lambda ids: (
        "automations/",
        _automation({"type": "pause-work-pool", "work_pool_id": ids["WorkPool"]}),
    ),
    "automation pausing a queue": lambda ids: (
        "automations/",
        _automation({"type": "pause-work-queue", "work_queue_id": ids["WorkQueue"]}),
    ),
    "automation pausing an automation": lambda ids: (
        "automations/",
        _automation({"type": "pause-automation", "automation_id": ids["Automation"]}),
    ),
    "artifact of a run": lambda ids: ("artifacts/", {"flow_run_id": ids["FlowRun"], "type": "markdown", "data": "# x"}),
}


@pytest.mark.parametrize("name", REQUESTS)
def test_a_reference_to_another_tenants_object_is_refused_and_writes_nothing(name: str, world: World) -> None:
    umbrella_ids = _objects(_umbrella(world))
    alice = session(world.alice)
    path, body = REQUESTS[name](umbrella_ids)
    before = table_counts()
    refused = alice.post(f"{PROD}/{path}", body, format="json")
    assert refused.status_code in (400, 404, 422), f"{name}: {refused.status_code} {refused.content!r}"
    assert refused.json()["error"]["message"]
    assert table_counts() == before
    text, sent = refused.content.decode(), json.dumps(body)
    for key, identifier in umbrella_ids.items():
        if identifier not in sent:  # quoting back what the caller sent reveals nothing
            assert identifier not in text, f"{name} revealed umbrella's {key}"

    path, body = REQUESTS[name](_objects(world))  # acme's own objects, made only now (names may coincide)
    accepted = alice.post(f"{PROD}/{path}", body, format="json")
    assert accepted.status_code in (200, 201), f"the control for {name}: {accepted.status_code} {accepted.content!r}"
