from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from controlplane.audit.models import AuditEntry
from controlplane.core.tenancy import tenant_scope
from controlplane.flows.models import Deployment, Flow
from controlplane.flows.parameters import PARAMETERS_MAX_BYTES
from controlplane.orgs.models import Workspace
from controlplane.workpools.models import WorkPool
from controlplane.workpools.services import work_pool_create, work_queue_create
from tests.controlplane.blocks.support import make_block
from tests.support.clients import session
from tests.support.tenants import World, actor_for

DEPLOYMENTS = "/api/v1/orgs/acme/workspaces/prod/deployments/"
SCHEMA = {
    "type": "object",
    "properties": {"day": {"type": "string"}, "limit": {"type": "integer", "minimum": 1}},
    "required": ["day"],
}


def _pool(world: World, name: str = "main", workspace: Workspace | None = None) -> WorkPool:
    workspace = workspace or world.prod
    owner = world.charlie if workspace == world.umbrella_prod else world.alice
    with tenant_scope(organization_id=workspace.organization_id, workspace_id=workspace.id):
        return work_pool_create(actor=actor_for(owner), workspace=workspace, name=name)


def _body(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"flow_name": "etl", "name": "nightly", "entrypoint": "flows/etl.py:etl"}
    body.update(fields)
    return body


def _counts() -> tuple[int, int]:
    return Flow.dangerously_unscoped.count(), Deployment.dangerously_unscoped.count()


def _error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    error: dict[str, Any] = response.json()["error"]
    return error


def test_deploying_twice_creates_then_updates_one_deployment(world: World) -> None:
    _pool(world)
    alice = session(world.alice)
    body = _body(
        work_pool_name="main",
        source={"type": "git", "url": "https://github.com/acme/etl.git", "ref": "main"},
        parameters={"day": "today"},
        parameter_schema=SCHEMA,
        tags=["prod"],
        job_variables={"env": {"LEVEL": "info"}},
        version="1.0",
    )
    first = alice.post(DEPLOYMENTS, body, format="json")
    assert first.status_code == 201, first.content
    second = alice.post(DEPLOYMENTS, {**body, "version": "1.1"}, format="json")
    assert second.status_code == 200, second.content
    assert second.json()["id"] == first.json()["id"]
    assert Deployment.dangerously_unscoped.filter(workspace=world.prod).count() == 1
    assert Deployment.dangerously_unscoped.get().version == "1.1"
    shown = second.json()
    assert {key: shown[key] for key in ("flow_name", "work_pool_name", "work_pool_type", "work_queue_name")} == {
        "flow_name": "etl",
        "work_pool_name": "main",
        "work_pool_type": "process",
        "work_queue_name": "default",
    }
    assert shown["source"] == {"type": "git", "url": "https://github.com/acme/etl.git", "ref": "main"}
    assert (shown["entrypoint"], shown["parameters"], shown["job_variables"]) == (
        "flows/etl.py:etl",
        {"day": "today"},
        {"env": {"LEVEL": "info"}},
    )
    actions = list(
        AuditEntry.dangerously_unscoped.filter(action__startswith="deployment.")
        .order_by("created_at")
        .values_list("action", "workspace_id", "actor_id")
    )
    assert actions == [
        ("deployment.created", world.prod.id, world.alice.id),
        ("deployment.updated", world.prod.id, world.alice.id),
    ]


def test_a_deployment_can_name_its_flow_by_id_and_a_queue_of_its_pool(world: World) -> None:
    pool = _pool(world)
    with tenant_scope(organization_id=world.acme.id, workspace_id=world.prod.id):
        work_queue_create(actor=actor_for(world.alice), pool=pool, name="urgent")
    flow = Flow.dangerously_unscoped.create(workspace=world.prod, name="etl")
    body = {"flow_id": str(flow.id), "name": "n", "entrypoint": "etl.flows:main"}
    response = session(world.alice).post(
        DEPLOYMENTS, {**body, "work_pool_name": "main", "work_queue_name": "urgent"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert (response.json()["flow_id"], response.json()["work_queue_name"]) == (str(flow.id), "urgent")


@pytest.mark.parametrize(
    ("refs", "where"),
    [
        ({"work_pool_name": "elsewhere"}, "staging"),
        ({"work_pool_name": "elsewhere"}, "umbrella"),
        ({"work_pool_name": "main", "work_queue_name": "default-of-elsewhere"}, "staging"),
        ({"work_pool_name": "nonexistent"}, "staging"),
    ],
)
def test_references_outside_the_workspace_are_not_found_and_nothing_is_written(
    world: World, refs: dict[str, str], where: str
) -> None:
    """RELIABILITY 13."""
    _pool(world, "main")
    _pool(world, "elsewhere", world.staging if where == "staging" else world.umbrella_prod)
    before = _counts()
    response = session(world.alice).post(DEPLOYMENTS, _body(flow_name="new-flow", **refs), format="json")
    _error(response, 404)
    assert _counts() == before
    assert not AuditEntry.dangerously_unscoped.filter(action__startswith="deployment.").exists()


def test_a_flow_id_of_another_workspace_is_not_found(world: World) -> None:
    foreign = Flow.dangerously_unscoped.create(workspace=world.umbrella_prod, name="theirs")
    body = {"flow_id": str(foreign.id), "name": "n", "entrypoint": "a.py:f"}
    _error(session(world.alice).post(DEPLOYMENTS, body, format="json"), 404)
    assert Deployment.dangerously_unscoped.count() == 0


def test_tenant_and_ownership_fields_in_the_body_are_ignored(world: World) -> None:
    """RELIABILITY 14."""
    alice = session(world.alice)
    forged = {"workspace": str(world.umbrella_prod.id), "organization": str(world.umbrella.id), "created_by": "x"}
    created = alice.post(DEPLOYMENTS, _body(**forged), format="json")
    assert created.status_code == 201
    deployment = Deployment.dangerously_unscoped.get()
    patched = alice.patch(f"{DEPLOYMENTS}{deployment.id}/", {**forged, "flow": "x", "id": "y"}, format="json")
    assert patched.status_code == 200
    deployment.refresh_from_db()
    assert deployment.workspace_id == world.prod.id
    assert deployment.flow.workspace_id == world.prod.id


@pytest.mark.parametrize(
    "entrypoint",
    ["flows/etl.py", "etl", ":main", "flows/etl.py:", "/abs/etl.py:main", "../up.py:main", "a/../../b.py:f",
     "flows/etl.txt:main", "flows/etl.py:main()", "a b.py:f", "x" * 1001],
)  # fmt: skip
def test_a_bad_entrypoint_is_a_clear_400(world: World, entrypoint: str) -> None:
    error = _error(session(world.alice).post(DEPLOYMENTS, _body(entrypoint=entrypoint), format="json"), 400)
    assert "entrypoint" in error["details"]
    assert _counts() == (0, 0)


@pytest.mark.parametrize(
    "entrypoint", ["flows/etl.py:etl", "etl.py:Flows.run", "./flows/etl.py:etl", "etl.flows:main", "my-pkg/v1.2/x.py:f"]
)
def test_good_entrypoints_are_accepted(world: World, entrypoint: str) -> None:
    response = session(world.alice).post(DEPLOYMENTS, _body(entrypoint=entrypoint), format="json")
    assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    "source",
    [
        "https://github.com/acme/etl.git",
        {"url": "https://github.com/acme/etl.git"},
        {"type": "svn", "url": "https://example.com/repo"},
        {"type": "git"},
        {"type": "git", "url": "ftp://example.com/repo.git"},
        {"type": "git", "url": "https://user:token@github.com/acme/etl.git"},
        {"type": "git", "url": "https://token@github.com/acme/etl.git"},
        {"type": "git", "url": "https://github.com/acme/etl.git", "branch": "main"},
        {"type": "path"},
        {"type": "path", "path": "/srv/\x00flows"},
        {"type": "url", "url": "not a url"},
        {"type": "url", "url": "s3:///no-bucket"},
    ],
)
def test_a_bad_source_is_a_clear_400(world: World, source: Any) -> None:
    error = _error(session(world.alice).post(DEPLOYMENTS, _body(source=source), format="json"), 400)
    assert "source" in error["details"] or error["code"] == "parse_error"
    assert "token" not in str(error)
    assert _counts() == (0, 0)


@pytest.mark.parametrize(
    "source",
    [
        {"type": "git", "url": "git@github.com:acme/etl.git", "ref": "v1.2", "credentials_block": "github"},
        {"type": "git", "url": "ssh://git@git.internal:2222/etl.git"},
        {"type": "path", "path": "/srv/flows"},
        {"type": "url", "url": "s3://bucket/etl.zip", "credentials_block": "s3-creds"},
    ],
)
def test_good_sources_are_stored_as_given(world: World, source: dict[str, Any]) -> None:
    # The credentials blocks a source names must exist (tests/controlplane/blocks/test_deployment_references.py).
    make_block(world, "git-credentials", "github", {"token": "t"})
    make_block(world, "s3-credentials", "s3-creds", {"access_key_id": "a", "secret_access_key": "s"})
    response = session(world.alice).post(DEPLOYMENTS, _body(source=source), format="json")
    assert response.status_code == 201, response.content
    assert Deployment.dangerously_unscoped.get().source == source


def test_an_invalid_parameter_schema_is_a_422_naming_the_problem(world: World) -> None:
    schema = {"type": "object", "properties": {"limit": {"type": "integr"}}}
    error = _error(session(world.alice).post(DEPLOYMENTS, _body(parameter_schema=schema), format="json"), 422)
    assert error["code"] == "validation_failed"
    assert "parameter_schema" in error["message"]
    assert "$.properties.limit.type" in error["message"]
    assert _counts() == (0, 0)


def test_parameters_over_512_kib_are_a_422_naming_the_limit(world: World) -> None:
    body = _body(parameters={"blob": "x" * PARAMETERS_MAX_BYTES}, enforce_parameter_schema=False)
    error = _error(session(world.alice).post(DEPLOYMENTS, body, format="json"), 422)
    assert "512 KiB" in error["message"]
    assert error["details"]["limit_bytes"] == PARAMETERS_MAX_BYTES
    assert _counts() == (0, 0)


def test_parameters_not_matching_the_schema_are_a_422_listing_the_paths(world: World) -> None:
    body = _body(parameter_schema=SCHEMA, parameters={"day": 3, "limit": 0})
    error = _error(session(world.alice).post(DEPLOYMENTS, body, format="json"), 422)
    assert error["details"]["paths"] == ["day", "limit"]
    assert {e["path"] for e in error["details"]["errors"]} == {"day", "limit"}
    # Without enforcement the same defaults are stored.
    relaxed = session(world.alice).post(DEPLOYMENTS, {**body, "enforce_parameter_schema": False}, format="json")
    assert relaxed.status_code == 201


def test_a_nul_character_in_json_fields_is_a_400_not_a_500(world: World) -> None:
    alice = session(world.alice)
    for field in ("parameters", "job_variables"):
        _error(alice.post(DEPLOYMENTS, _body(**{field: {"k": "a\x00b"}}), format="json"), 400)
        _error(alice.post(DEPLOYMENTS, _body(**{field: {"a\x00b": 1}}), format="json"), 400)
    assert _counts() == (0, 0)


def test_pause_and_resume(world: World) -> None:
    alice = session(world.alice)
    deployment_id = alice.post(DEPLOYMENTS, _body(), format="json").json()["id"]
    assert alice.post(f"{DEPLOYMENTS}{deployment_id}/pause/").json()["paused"] is True
    assert alice.post(f"{DEPLOYMENTS}{deployment_id}/pause/").status_code == 200
    assert Deployment.dangerously_unscoped.get().paused is True
    assert alice.post(f"{DEPLOYMENTS}{deployment_id}/resume/").json()["paused"] is False
    assert Deployment.dangerously_unscoped.get().paused is False
    actions = AuditEntry.dangerously_unscoped.filter(action__in=["deployment.paused", "deployment.resumed"])
    assert sorted(actions.values_list("action", flat=True)) == ["deployment.paused", "deployment.resumed"]


def test_a_redeploy_keeps_a_pause_made_in_the_ui(world: World) -> None:
    alice = session(world.alice)
    deployment_id = alice.post(DEPLOYMENTS, _body(), format="json").json()["id"]
    alice.post(f"{DEPLOYMENTS}{deployment_id}/pause/")
    assert alice.post(DEPLOYMENTS, _body(version="2"), format="json").json()["paused"] is True


def test_patch_moves_between_queues_and_pools(world: World) -> None:
    pool = _pool(world)
    _pool(world, "other")
    with tenant_scope(organization_id=world.acme.id, workspace_id=world.prod.id):
        work_queue_create(actor=actor_for(world.alice), pool=pool, name="urgent")
    alice = session(world.alice)
    deployment_id = alice.post(DEPLOYMENTS, _body(work_pool_name="main"), format="json").json()["id"]
    url = f"{DEPLOYMENTS}{deployment_id}/"
    assert alice.patch(url, {"work_queue_name": "urgent"}, format="json").json()["work_queue_name"] == "urgent"
    moved = alice.patch(url, {"work_pool_name": "other"}, format="json").json()
    assert (moved["work_pool_name"], moved["work_queue_name"]) == ("other", "default")
    _error(alice.patch(url, {"work_queue_name": "urgent"}, format="json"), 404)
    detached = alice.patch(url, {"work_pool_name": None}, format="json").json()
    assert (detached["work_pool_name"], detached["work_queue_name"]) == (None, None)


def test_renaming_onto_another_deployment_is_a_409(world: World) -> None:
    alice = session(world.alice)
    alice.post(DEPLOYMENTS, _body(name="a"), format="json")
    b = alice.post(DEPLOYMENTS, _body(name="b"), format="json").json()
    _error(alice.patch(f"{DEPLOYMENTS}{b['id']}/", {"name": "a"}, format="json"), 409)


def test_delete_is_audited(world: World) -> None:
    alice = session(world.alice)
    deployment_id = alice.post(DEPLOYMENTS, _body(), format="json").json()["id"]
    assert alice.delete(f"{DEPLOYMENTS}{deployment_id}/").status_code == 204
    assert Deployment.dangerously_unscoped.count() == 0
    entry = AuditEntry.dangerously_unscoped.get(action="deployment.deleted")
    assert (entry.target_id, entry.target_label) == (deployment_id, "etl/nightly")


def _names(client: APIClient, query: str) -> list[str]:
    response = client.get(f"{DEPLOYMENTS}?page_size=200&{query}")
    assert response.status_code == 200, response.content
    return [f"{d['flow_name']}/{d['name']}" for d in response.json()["results"]]


def test_list_filters_and_sorting(world: World) -> None:
    _pool(world, "main")
    _pool(world, "gpu")
    alice = session(world.alice)
    for flow, name, pool, tags in [
        ("etl", "a-nightly", "main", ["prod", "daily"]),
        ("etl", "c-hourly", "gpu", ["prod"]),
        ("report", "b-weekly", "main", ["daily"]),
    ]:
        body = {"flow_name": flow, "name": name, "entrypoint": "a.py:f", "work_pool_name": pool, "tags": tags}
        assert alice.post(DEPLOYMENTS, body, format="json").status_code == 201
    alice.post(f"{DEPLOYMENTS}{Deployment.dangerously_unscoped.get(name='c-hourly').id}/pause/")
    assert _names(alice, "") == ["report/b-weekly", "etl/c-hourly", "etl/a-nightly"]  # newest first
    assert _names(alice, "sort=name") == ["etl/a-nightly", "report/b-weekly", "etl/c-hourly"]
    assert _names(alice, "sort=-name") == ["etl/c-hourly", "report/b-weekly", "etl/a-nightly"]
    assert _names(alice, "sort=created") == ["etl/a-nightly", "etl/c-hourly", "report/b-weekly"]
    assert _names(alice, "flow_name=etl&sort=name") == ["etl/a-nightly", "etl/c-hourly"]
    assert _names(alice, "work_pool_name=main&sort=name") == ["etl/a-nightly", "report/b-weekly"]
    assert _names(alice, "tag=daily&sort=name") == ["etl/a-nightly", "report/b-weekly"]
    assert _names(alice, "tag=daily&tag=prod") == ["etl/a-nightly"]
    assert _names(alice, "paused=true") == ["etl/c-hourly"]
    assert _names(alice, "paused=false&sort=name") == ["etl/a-nightly", "report/b-weekly"]
    assert _names(alice, "flow_name=etl&name=c-hourly") == ["etl/c-hourly"]
    for bad in ("sort=colour", "paused=maybe", "flow_id=not-a-uuid", "name=a%00b"):
        assert alice.get(f"{DEPLOYMENTS}?{bad}").status_code == 400, bad


def test_sorted_pages_follow_on_without_repeats(world: World) -> None:
    with tenant_scope(organization_id=world.acme.id, workspace_id=world.prod.id):
        flow = Flow.objects.create(workspace=world.prod, name="etl")
        for index in range(7):
            Deployment.objects.create(workspace=world.prod, flow=flow, name=f"d{index}", entrypoint="a.py:f")
    alice = session(world.alice)
    page = alice.get(f"{DEPLOYMENTS}?sort=name&page_size=3").json()
    seen = [d["name"] for d in page["results"]]
    while page["next"]:
        page = alice.get(page["next"]).json()
        seen += [d["name"] for d in page["results"]]
    assert seen == [f"d{index}" for index in range(7)]


def test_listing_deployments_takes_a_constant_number_of_queries(
    world: World, django_assert_max_num_queries: Any
) -> None:
    """No N+1: 50 deployments with their flows, pools and queues cost what 2 do."""
    pool = _pool(world)
    with tenant_scope(organization_id=world.acme.id, workspace_id=world.prod.id):
        queue = work_queue_create(actor=actor_for(world.alice), pool=pool, name="q")
        for index in range(50):
            flow = Flow.objects.create(workspace=world.prod, name=f"flow-{index}")
            Deployment.objects.create(
                workspace=world.prod, flow=flow, name="d", entrypoint="a.py:f", work_pool=pool, work_queue=queue
            )
    alice = session(world.alice)
    with CaptureQueriesContext(connection) as two:
        assert len(alice.get(f"{DEPLOYMENTS}?page_size=2").json()["results"]) == 2
    with django_assert_max_num_queries(len(two.captured_queries)):
        response = alice.get(f"{DEPLOYMENTS}?page_size=50")
    assert {d["work_queue_name"] for d in response.json()["results"]} == {"q"}
    with django_assert_max_num_queries(5):
        alice.get(f"{DEPLOYMENTS}?page_size=50&tag=x&flow_name=flow-1&work_pool_name=main")


def test_a_viewer_can_read_deployments_but_not_change_them(world: World) -> None:
    alice = session(world.alice)
    deployment_id = alice.post(DEPLOYMENTS, _body(), format="json").json()["id"]
    bob = session(world.bob)
    assert bob.get(DEPLOYMENTS).status_code == 200
    assert bob.get(f"{DEPLOYMENTS}{deployment_id}/").json()["name"] == "nightly"
    before = list(Deployment.dangerously_unscoped.values_list("name", "paused", "version"))
    refused = [
        bob.post(DEPLOYMENTS, _body(name="bobs"), format="json"),
        bob.post(DEPLOYMENTS, _body(version="hacked"), format="json"),
        bob.patch(f"{DEPLOYMENTS}{deployment_id}/", {"version": "hacked"}, format="json"),
        bob.post(f"{DEPLOYMENTS}{deployment_id}/pause/"),
        bob.delete(f"{DEPLOYMENTS}{deployment_id}/"),
    ]
    assert [response.status_code for response in refused] == [403] * 5
    assert list(Deployment.dangerously_unscoped.values_list("name", "paused", "version")) == before


def test_a_source_that_is_not_an_object_says_what_shape_to_send(world: World) -> None:
    body = _body(source="https://github.com/acme/etl.git")
    error = _error(session(world.alice).post(DEPLOYMENTS, body, format="json"), 400)
    assert error["details"]["source"] == ['Expected an object such as {"type": "git", "url": "...", "ref": "main"}.']


def test_the_longest_names_are_stored_and_audited(world: World) -> None:
    body = _body(flow_name="f" * 255, name="d" * 255)
    assert session(world.alice).post(DEPLOYMENTS, body, format="json").status_code == 201
    assert AuditEntry.dangerously_unscoped.get(action="deployment.created").target_label.startswith("f" * 255)
