"""RELIABILITY 11: every role, route and foreign id, nested, bulk and filter routes included → no foreign data.

charlie, in each of his workspace roles and as his organisation's owner, calls every method of
every route that takes an id (nested ones too: schedules of a deployment, queues of a pool,
keys of a service account, logs and inputs of a run) with acme's real ids under his own URLs;
sends acme's run ids to the bulk routes; and filters his own lists by acme's ids. Whatever the
role, nothing of acme's comes back and nothing of acme's changes.
"""

from __future__ import annotations

import pytest

from controlplane.orgs.roles import WorkspaceRole
from controlplane.runs.models import FlowRun
from tests.reliability.support import SLUGS, acme_everything, acme_route_values, charlie_clients, leaked
from tests.support.clients import session
from tests.support.matrix import FACTORIES, call, table_counts
from tests.support.routes import api_routes
from tests.support.tenants import World

ROUTES = [route for route in api_routes() if route.is_tenant and set(route.params) - set(SLUGS)]
UMBRELLA = "/api/v1/orgs/umbrella/workspaces/prod"
# Every filter that takes an id, on every collection that declares one (from the OpenAPI schema).
ID_FILTERS = {
    "flow-runs/": ["deployment_id", "flow_id", "work_pool_id", "parent_task_run_id"],
    "flow-runs/counts/": ["deployment_id", "flow_id", "work_pool_id", "parent_task_run_id"],
    "task-runs/": ["flow_run_id"],
    "artifacts/": ["flow_run_id", "task_run_id"],
    "automation-firings/": ["automation_id"],
    "slas/": ["deployment_id"],
    "events/": ["id", "resource_id", "related_resource_id"],
    "events/counts/": ["id", "resource_id", "related_resource_id"],
}
# Filters whose acme rows exist: on acme's own URL they find them, so an empty answer for charlie means something.
CONTROLS = [
    ("flow-runs/", "flow_id"),
    ("artifacts/", "flow_run_id"),
    ("automation-firings/", "automation_id"),
    ("slas/", "deployment_id"),
]
REFUSED = {400, 403, 404, 405, 409, 422}


def _acme_ids(world: World) -> dict[str, str]:
    from controlplane.automations.models import Automation
    from controlplane.flows.models import Deployment, Flow
    from controlplane.runs.models import TaskRun
    from controlplane.workpools.models import WorkPool

    def one(model: type) -> str:
        return str(FACTORIES[model](world).pk)

    return {
        "deployment_id": one(Deployment),
        "flow_id": one(Flow),
        "work_pool_id": one(WorkPool),
        "parent_task_run_id": one(TaskRun),
        "flow_run_id": one(FlowRun),
        "task_run_id": one(TaskRun),
        "automation_id": one(Automation),
        "id": one(FlowRun),
        "resource_id": f"tether.flow-run.{one(FlowRun)}",
        "related_resource_id": f"tether.deployment.{one(Deployment)}",
    }


@pytest.mark.parametrize("role", ["org-owner-session", *WorkspaceRole.values])
def test_every_role_on_every_id_route_gets_nothing_of_another_tenant(role: str, world: World) -> None:
    identifiers = acme_everything(world)
    calls = [(route, acme_route_values(route, world)) for route in ROUTES]
    client = charlie_clients(world)[role]
    before = table_counts()
    for route, values in calls:
        url = route.url(**values)
        for method, _ in route.methods:
            response = call(client, method, url)
            assert response.status_code in REFUSED, f"{role} {method} {url} → {response.status_code}"
            assert leaked(response.content.decode(), identifiers) == [], f"{role} {method} {url}"
    assert table_counts() == before


@pytest.mark.parametrize("role", WorkspaceRole.values)
def test_bulk_routes_with_another_tenants_ids_touch_nothing(role: str, world: World) -> None:
    acme_everything(world)
    runs = list(FlowRun.dangerously_unscoped.filter(workspace=world.prod))
    states = {run.pk: (run.state_type, run.updated_at) for run in runs}
    ids = [str(run.pk) for run in runs]
    client = charlie_clients(world)[role]
    for path in ("flow-runs/batch-cancel/", "flow-runs/batch-delete/"):
        response = client.post(f"{UMBRELLA}/{path}", {"ids": ids}, format="json")
        assert response.status_code in (200, 403), f"{role} {path} → {response.status_code}"
        if response.status_code == 200:
            assert [outcome["ok"] for outcome in response.json()] == [False] * len(ids)
    after = {
        run.pk: (run.state_type, run.updated_at) for run in FlowRun.dangerously_unscoped.filter(workspace=world.prod)
    }
    assert after == states


@pytest.mark.parametrize("role", ["org-owner-session", WorkspaceRole.VIEWER, WorkspaceRole.WORKER])
def test_filtering_your_lists_by_another_tenants_ids_finds_nothing(role: str, world: World) -> None:
    identifiers = acme_everything(world)
    acme_ids = _acme_ids(world)
    client = charlie_clients(world)[role]
    for path, filters in ID_FILTERS.items():
        for name in filters:
            response = client.get(f"{UMBRELLA}/{path}", {name: acme_ids[name]})
            assert response.status_code in (200, 400), f"{role} {path}?{name} → {response.status_code}"
            body = response.json()
            assert leaked(response.content.decode(), identifiers) == [], f"{role} {path}?{name}"
            if response.status_code == 200 and isinstance(body, dict) and "results" in body:
                assert body["results"] == [], f"{role} {path}?{name}"
    alice = session(world.alice)
    for path, name in CONTROLS:
        found = alice.get(f"/api/v1/orgs/acme/workspaces/prod/{path}", {name: acme_ids[name]})
        assert found.status_code == 200
        assert found.json()["results"] != [], f"the control {path}?{name} finds nothing in acme itself"
