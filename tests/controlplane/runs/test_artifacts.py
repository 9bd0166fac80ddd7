"""Artifacts: typed data checked, keyed versions, latest of a key and of every key, limits, tenants apart."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from controlplane.runs.models import Artifact
from controlplane.runs.services.artifacts import ARTIFACT_DATA_MAX_BYTES
from tests.controlplane.runs.test_logs import make_flow_run
from tests.support.clients import bearer, session
from tests.support.tenants import World, service_account_key

PROD = "/api/v1/orgs/acme/workspaces/prod"
ARTIFACTS = f"{PROD}/artifacts/"


def nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


def client_as(world: World, role: str) -> Any:
    if role not in world.keys:
        _, world.keys[role] = service_account_key(world.alice, world.prod, role, name=f"as-{role}")
    return bearer(world.keys[role])


def publish(world: World, **body: Any) -> Any:
    return client_as(world, "worker").post(ARTIFACTS, body, format="json")


def created(world: World, **body: Any) -> dict[str, Any]:
    response = publish(world, **body)
    assert response.status_code == 201, response.content
    return dict(response.json())


@pytest.mark.parametrize(
    ("type_", "data"),
    [
        ("markdown", "# Report\n\n| a | b |"),
        ("table", [{"name": "a", "rows": 3, "ok": True, "ratio": 0.5, "note": None}, {"name": "b"}]),
        ("table", [["name", "rows"], ["a", 3], ["b", 4]]),
        ("table", []),
        ("link", "https://example.com/dashboards/42?tab=1"),
        ("link", "http://intranet.local:8080/report"),
    ],
)
def test_each_type_accepts_its_data(world: World, type_: str, data: Any) -> None:
    run = make_flow_run(world)
    body = created(world, type=type_, data=data, description="nightly", flow_run_id=str(run.id))
    assert (body["type"], body["data"], body["description"]) == (type_, data, "nightly")
    assert body["flow_run_id"] == str(run.id)
    stored = Artifact.dangerously_unscoped.get(id=body["id"])
    assert (stored.workspace_id, stored.data) == (world.prod.id, data)


@pytest.mark.parametrize(
    ("type_", "data"),
    [
        ("markdown", {"not": "a string"}),
        ("markdown", 42),
        ("table", "a | b"),
        ("table", {"a": [1, 2]}),
        ("table", [{"a": 1}, ["a", 1]]),  # objects and lists mixed
        ("table", [[1, [2, 3]]]),  # a cell is not a scalar
        ("table", [{"a": {"nested": 1}}]),
        ("table", [1, 2, 3]),
        ("link", "javascript:alert(1)"),
        ("link", "ftp://example.com/file"),
        ("link", "file:///etc/passwd"),
        ("link", "not a url"),
        ("link", "https://example.com/" + "x" * 2100),
        ("link", ["https://example.com"]),
    ],
)
def test_data_that_does_not_fit_its_type_is_a_422(world: World, type_: str, data: Any) -> None:
    response = publish(world, type=type_, data=data)
    assert response.status_code == 422, response.content
    assert "data" in response.json()["error"]["details"]
    assert Artifact.dangerously_unscoped.count() == 0


def test_data_over_the_limit_is_a_422_naming_it(world: World) -> None:
    response = publish(world, type="markdown", data="x" * ARTIFACT_DATA_MAX_BYTES)  # plus two quotes
    assert response.status_code == 422
    error = response.json()["error"]
    assert str(ARTIFACT_DATA_MAX_BYTES) in error["message"]
    assert error["details"]["limit_bytes"] == ARTIFACT_DATA_MAX_BYTES
    assert Artifact.dangerously_unscoped.count() == 0
    assert publish(world, type="markdown", data="x" * (ARTIFACT_DATA_MAX_BYTES - 2)).status_code == 201


@pytest.mark.parametrize(
    "body",
    [
        {"type": "markdown", "data": "nul \x00 here"},
        {"type": "table", "data": [{"col\x00": 1}]},
        {"type": "table", "data": [["a", "b\x00"]]},
        {"type": "markdown", "data": "ok", "description": "nul\x00"},
        {"type": "markdown", "data": "ok", "key": "nul\x00"},
        {"type": "markdown", "data": "ok", "key": "Not A Slug"},
        {"type": "markdown", "data": "ok", "key": "trailing-newline\n"},
        {"type": "markdown", "data": "ok", "key": "k" * 256},
        {"type": "chart", "data": "ok"},
        {"type": "markdown"},
        {"type": "markdown", "data": "ok", "flow_run_id": "not-a-uuid"},
    ],
)
def test_invalid_input_is_a_400(world: World, body: dict[str, Any]) -> None:
    response = publish(world, **body)
    assert response.status_code == 400, response.content
    assert Artifact.dangerously_unscoped.count() == 0


def test_a_table_with_nested_cells_is_refused(world: World) -> None:
    response = publish(world, type="table", data=[[0] * 3, nested(40)])
    assert response.status_code == 422, response.content
    assert Artifact.dangerously_unscoped.count() == 0


@pytest.mark.parametrize(
    "raw",
    [
        b'{"type": "markdown", "data": "\\ud800"}',
        b'{"type": "table", "data": [{"\\udfff": 1}]}',
        b'{"type": "markdown", "data": ' + b"[" * 10_000 + b"]" * 10_000 + b"}",
        b"\xff\xfe",
    ],
)
def test_malformed_bodies_are_a_400_never_a_500(world: World, raw: bytes) -> None:
    response = client_as(world, "worker").generic("POST", ARTIFACTS, raw, content_type="application/json")
    assert response.status_code == 400, response.content
    assert Artifact.dangerously_unscoped.count() == 0


def test_another_tenants_flow_run_is_a_404_and_nothing_is_written(world: World) -> None:
    theirs = make_flow_run(world, umbrella=True)
    response = publish(world, type="markdown", data="x", flow_run_id=str(theirs.id))
    assert response.status_code == 404
    assert publish(world, type="markdown", data="x", flow_run_id=str(uuid.uuid4())).status_code == 404
    assert Artifact.dangerously_unscoped.count() == 0


def test_keyed_artifacts_keep_every_version_and_latest_is_the_newest(world: World) -> None:
    versions = [created(world, type="markdown", key="daily-report", data=f"v{n}") for n in range(3)]
    created(world, type="markdown", key="other", data="o")
    alice = session(world.alice)
    listed = alice.get(f"{ARTIFACTS}?key=daily-report").json()["results"]
    assert [a["data"] for a in listed] == ["v2", "v1", "v0"]
    latest = alice.get(f"{ARTIFACTS}keys/daily-report/")
    assert latest.status_code == 200
    assert latest.json()["id"] == versions[2]["id"]
    assert alice.get(f"{ARTIFACTS}keys/no-such-key/").status_code == 404


def test_deleting_the_latest_version_makes_the_previous_one_latest(world: World) -> None:
    first = created(world, type="markdown", key="report", data="v1")
    second = created(world, type="markdown", key="report", data="v2")
    runner = client_as(world, "runner")
    assert runner.delete(f"{ARTIFACTS}{second['id']}/").status_code == 204
    assert session(world.alice).get(f"{ARTIFACTS}keys/report/").json()["id"] == first["id"]
    assert runner.delete(f"{ARTIFACTS}{first['id']}/").status_code == 204
    assert session(world.alice).get(f"{ARTIFACTS}keys/report/").status_code == 404


def test_keys_lists_each_key_once_with_its_latest_version_in_one_query(world: World) -> None:
    for key in ("beta", "alpha", "gamma"):
        for version in range(3):
            created(world, type="markdown", key=key, data=f"{key}-{version}")
    created(world, type="markdown", data="unkeyed")
    alice = session(world.alice)
    alice.get(f"{ARTIFACTS}keys/")  # warm the session
    with CaptureQueriesContext(connection) as queries:
        body = alice.get(f"{ARTIFACTS}keys/").json()
    assert [(a["key"], a["data"]) for a in body["results"]] == [
        ("alpha", "alpha-2"),
        ("beta", "beta-2"),
        ("gamma", "gamma-2"),
    ]
    artifact_queries = [q["sql"] for q in queries.captured_queries if "runs_artifact" in q["sql"]]
    assert len(artifact_queries) == 1
    assert "DISTINCT ON" in artifact_queries[0]


def test_keys_pages_forward_and_back_and_always_shows_the_latest(world: World) -> None:
    for key in ("a", "b", "c", "d", "e"):
        for version in range(2):
            created(world, type="markdown", key=key, data=f"{key}-{version}")
    alice = session(world.alice)
    first = alice.get(f"{ARTIFACTS}keys/?page_size=2").json()
    second = alice.get(first["next"]).json()
    third = alice.get(second["next"]).json()
    assert [a["data"] for page in (first, second, third) for a in page["results"]] == [
        "a-1", "b-1", "c-1", "d-1", "e-1"
    ]  # fmt: skip
    assert third["next"] is None
    back = alice.get(third["previous"]).json()
    assert [a["data"] for a in back["results"]] == ["c-1", "d-1"]


def test_list_filters_by_flow_run_task_run_and_type(world: World) -> None:
    run, other_run = make_flow_run(world, name="a"), make_flow_run(world, name="b")
    task_run_id = uuid.uuid4()
    created(world, type="markdown", data="m", flow_run_id=str(run.id), task_run_id=str(task_run_id))
    created(world, type="link", data="https://example.com", flow_run_id=str(run.id))
    created(world, type="table", data=[], flow_run_id=str(other_run.id))
    alice = session(world.alice)

    def data(query: str) -> list[Any]:
        response = alice.get(f"{ARTIFACTS}{query}")
        assert response.status_code == 200, response.content
        return [a["data"] for a in response.json()["results"]]

    assert data(f"?flow_run_id={run.id}") == ["https://example.com", "m"]
    assert data(f"?flow_run_id={run.id}&type=markdown") == ["m"]
    assert data(f"?task_run_id={task_run_id}") == ["m"]
    assert data("?type=table") == [[]]
    for bad in ("?type=chart", "?flow_run_id=junk", "?key=nul%00"):
        assert alice.get(f"{ARTIFACTS}{bad}").status_code == 400


def test_another_tenants_artifacts_never_show(world: World) -> None:
    theirs = Artifact.dangerously_unscoped.create(
        workspace=world.umbrella_prod, key="shared-key", type="markdown", data="umbrella"
    )
    created(world, type="markdown", key="shared-key", data="acme")
    alice = session(world.alice)
    for url in (ARTIFACTS, f"{ARTIFACTS}keys/", f"{ARTIFACTS}?key=shared-key"):
        text = alice.get(url).content.decode()
        assert "umbrella" not in text
        assert str(theirs.id) not in text
    assert alice.get(f"{ARTIFACTS}keys/shared-key/").json()["data"] == "acme"
    assert alice.get(f"{ARTIFACTS}{theirs.id}/").status_code == 404
    assert client_as(world, "runner").delete(f"{ARTIFACTS}{theirs.id}/").status_code == 404
    assert Artifact.dangerously_unscoped.filter(id=theirs.id).exists()


def test_roles_publish_read_and_delete_as_the_scope_table_says(world: World) -> None:
    body = {"type": "markdown", "data": "x"}
    assert session(world.bob).post(ARTIFACTS, body, format="json").status_code == 403  # viewer
    assert client_as(world, "runner").post(ARTIFACTS, body, format="json").status_code == 403
    artifact = created(world, **body)
    assert client_as(world, "developer").post(ARTIFACTS, body, format="json").status_code == 201
    assert session(world.bob).get(f"{ARTIFACTS}{artifact['id']}/").status_code == 200
    assert client_as(world, "worker").delete(f"{ARTIFACTS}{artifact['id']}/").status_code == 403
    assert session(world.bob).delete(f"{ARTIFACTS}{artifact['id']}/").status_code == 403
    assert Artifact.dangerously_unscoped.filter(id=artifact["id"]).exists()


def test_the_list_query_count_does_not_grow_with_the_page(world: World) -> None:
    run = make_flow_run(world)
    for n in range(20):
        created(world, type="markdown", data=str(n), flow_run_id=str(run.id))
    alice = session(world.alice)
    alice.get(ARTIFACTS)  # warm the session
    counts = []
    for size in (1, 20):
        with CaptureQueriesContext(connection) as queries:
            assert len(alice.get(f"{ARTIFACTS}?page_size={size}").json()["results"]) == size
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_the_response_is_the_json_that_was_sent(world: World) -> None:
    table = [{"unicode": "日本語", "emoji": "🚀", "big": 2**53}]
    body = created(world, type="table", data=table)
    assert json.dumps(body["data"], sort_keys=True) == json.dumps(table, sort_keys=True)
