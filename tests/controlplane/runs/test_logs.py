"""Log ingestion: one INSERT per batch, re-sends stored once, limits named, other tenants' runs refused."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from controlplane.core.errors import NotFound, PayloadTooLarge, ValidationFailed
from controlplane.core.tenancy import tenant_scope
from controlplane.flows.models import Flow
from controlplane.runs.models import FlowRun, Log
from controlplane.runs.services.logs import (
    LOG_BATCH_MAX_LINES,
    LOG_BATCH_MAX_MESSAGE_BYTES,
    LOG_MESSAGE_MAX_BYTES,
    LogLine,
    logs_ingest,
)
from tests.support.clients import bearer, session
from tests.support.tenants import World, service_account_key

PROD = "/api/v1/orgs/acme/workspaces/prod"
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def make_flow_run(world: World, *, umbrella: bool = False, name: str = "run") -> FlowRun:
    workspace = world.umbrella_prod if umbrella else world.prod
    flow, _ = Flow.dangerously_unscoped.get_or_create(workspace=workspace, name="etl")
    run: FlowRun = FlowRun.dangerously_unscoped.create(workspace=workspace, flow=flow, name=name)
    return run


def line(run: FlowRun, seq: int, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "flow_run_id": str(run.id),
        "seq": seq,
        "level": 20,
        "message": f"line {seq}",
        "timestamp": (T0 + timedelta(milliseconds=seq)).isoformat(),
    }
    body.update(fields)
    return body


def worker(world: World) -> Any:
    """The agent's client (one service account per test, however often it is asked for)."""
    if "agent" not in world.keys:
        _, world.keys["agent"] = service_account_key(world.alice, world.prod, "worker", name="agent")
    return bearer(world.keys["agent"])


def in_prod(world: World) -> Any:
    return tenant_scope(organization_id=world.acme.id, workspace_id=world.prod.id)


def inserts(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("INSERT")]


# --- the service ------------------------------------------------------------------------------


@pytest.fixture
def prod_scope(world: World) -> Iterator[None]:
    with in_prod(world):
        yield


def _lines(run: FlowRun, count: int, **fields: Any) -> list[LogLine]:
    return [
        LogLine(
            flow_run_id=run.id,
            seq=seq,
            level=20,
            message=f"line {seq}",
            timestamp=T0 + timedelta(milliseconds=seq),
            **fields,
        )
        for seq in range(count)
    ]


@pytest.mark.usefixtures("prod_scope")
def test_a_batch_is_one_insert_and_a_resend_stores_nothing_twice(world: World) -> None:
    run = make_flow_run(world)
    with CaptureQueriesContext(connection) as queries:
        first = logs_ingest(workspace=world.prod, lines=_lines(run, 500))
    assert len(inserts(queries)) == 1
    assert (first.accepted, first.duplicates) == (500, 0)
    again = logs_ingest(workspace=world.prod, lines=_lines(run, 600))
    assert (again.accepted, again.duplicates) == (100, 500)
    assert Log.dangerously_unscoped.filter(flow_run=run).count() == 600


@pytest.mark.usefixtures("prod_scope")
def test_the_same_seq_from_another_source_is_another_line(world: World) -> None:
    run = make_flow_run(world)
    logs_ingest(workspace=world.prod, lines=_lines(run, 3))
    result = logs_ingest(workspace=world.prod, lines=_lines(run, 3, source="agent"))
    assert result.accepted == 3
    assert Log.dangerously_unscoped.filter(flow_run=run).count() == 6


@pytest.mark.usefixtures("prod_scope")
def test_repeats_inside_one_batch_are_duplicates(world: World) -> None:
    run = make_flow_run(world)
    lines = _lines(run, 2)
    result = logs_ingest(workspace=world.prod, lines=[*lines, *lines, lines[0]])
    assert (result.accepted, result.duplicates) == (2, 3)


@pytest.mark.usefixtures("prod_scope")
def test_the_service_enforces_every_limit(world: World) -> None:
    run = make_flow_run(world)
    with pytest.raises(PayloadTooLarge) as too_many:
        logs_ingest(workspace=world.prod, lines=_lines(run, LOG_BATCH_MAX_LINES + 1))
    assert too_many.value.details["limit_lines"] == LOG_BATCH_MAX_LINES
    big = LogLine(flow_run_id=run.id, seq=0, level=20, message="x" * (LOG_MESSAGE_MAX_BYTES + 1), timestamp=T0)
    with pytest.raises(ValidationFailed) as too_long:
        logs_ingest(workspace=world.prod, lines=[big])
    assert too_long.value.details == {
        "index": 0,
        "limit_bytes": LOG_MESSAGE_MAX_BYTES,
        "message_bytes": LOG_MESSAGE_MAX_BYTES + 1,
    }
    assert Log.dangerously_unscoped.count() == 0


def test_another_workspaces_run_is_not_found_and_nothing_is_written(world: World) -> None:
    mine, theirs = make_flow_run(world), make_flow_run(world, umbrella=True)
    with in_prod(world), pytest.raises(NotFound) as refused:
        logs_ingest(workspace=world.prod, lines=[*_lines(mine, 2), *_lines(theirs, 2)])
    assert refused.value.details == {"flow_run_ids": [str(theirs.id)]}
    assert Log.dangerously_unscoped.count() == 0


# --- the ingestion API ---------------------------------------------------------------------------


def test_ingestion_answers_the_same_way_to_a_resent_batch(world: World) -> None:
    run = make_flow_run(world)
    client = worker(world)
    batch = [line(run, seq) for seq in range(10)]
    with CaptureQueriesContext(connection) as queries:
        first = client.post(f"{PROD}/logs/", batch, format="json")
    assert first.status_code == 201, first.content
    assert first.json() == {"accepted": 10, "duplicates": 0}
    assert len([sql for sql in inserts(queries) if "runs_log" in sql]) == 1
    again = client.post(f"{PROD}/logs/", batch, format="json")
    assert again.status_code == 201
    assert again.json() == {"accepted": 0, "duplicates": 10}
    stored = Log.dangerously_unscoped.get(flow_run=run, seq=3)
    assert (stored.message, stored.level, stored.source, stored.workspace_id) == ("line 3", 20, "engine", world.prod.id)


def test_ingestion_stores_every_field(world: World) -> None:
    run = make_flow_run(world)
    task_run_id = uuid.uuid4()
    body = line(run, 7, task_run_id=str(task_run_id), source="agent", name="tether.flow", level=40, message="  boom\n")
    assert worker(world).post(f"{PROD}/logs/", [body], format="json").status_code == 201
    stored = Log.dangerously_unscoped.get()
    assert stored.task_run_id == task_run_id
    assert (stored.source, stored.name, stored.level, stored.seq) == ("agent", "tether.flow", 40, 7)
    assert stored.message == "  boom\n"  # never trimmed
    assert stored.timestamp == T0 + timedelta(milliseconds=7)


def test_more_lines_than_the_limit_is_a_413_naming_it(world: World) -> None:
    run = make_flow_run(world)
    batch = [line(run, seq) for seq in range(LOG_BATCH_MAX_LINES + 1)]
    response = worker(world).post(f"{PROD}/logs/", batch, format="json")
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "payload_too_large"
    assert "1000 lines" in error["message"]
    assert error["details"]["limit_lines"] == LOG_BATCH_MAX_LINES
    assert Log.dangerously_unscoped.count() == 0


def test_exactly_the_line_limit_is_accepted(world: World) -> None:
    run = make_flow_run(world)
    batch = [line(run, seq) for seq in range(LOG_BATCH_MAX_LINES)]
    response = worker(world).post(f"{PROD}/logs/", batch, format="json")
    assert response.json() == {"accepted": LOG_BATCH_MAX_LINES, "duplicates": 0}


def test_more_message_bytes_than_the_batch_limit_is_a_413_naming_it(world: World) -> None:
    run = make_flow_run(world)
    message = "x" * LOG_MESSAGE_MAX_BYTES  # each line is within its own limit
    count = LOG_BATCH_MAX_MESSAGE_BYTES // LOG_MESSAGE_MAX_BYTES + 1
    response = worker(world).post(f"{PROD}/logs/", [line(run, s, message=message) for s in range(count)], format="json")
    assert response.status_code == 413
    error = response.json()["error"]
    assert str(LOG_BATCH_MAX_MESSAGE_BYTES) in error["message"]
    assert error["details"]["limit_bytes"] == LOG_BATCH_MAX_MESSAGE_BYTES
    assert Log.dangerously_unscoped.count() == 0


def test_a_message_over_its_limit_is_a_422_naming_the_limit_and_the_line(world: World) -> None:
    run = make_flow_run(world)
    at_limit = "é" * (LOG_MESSAGE_MAX_BYTES // 2)  # two bytes each: exactly the limit
    over = at_limit + "x"
    batch = [line(run, 0), line(run, 1, message=at_limit), line(run, 2, message=over)]
    response = worker(world).post(f"{PROD}/logs/", batch, format="json")
    assert response.status_code == 422
    error = response.json()["error"]
    assert "line 2" in error["message"]
    assert str(LOG_MESSAGE_MAX_BYTES) in error["message"]
    assert error["details"] == {
        "index": 2,
        "limit_bytes": LOG_MESSAGE_MAX_BYTES,
        "message_bytes": LOG_MESSAGE_MAX_BYTES + 1,
    }
    assert Log.dangerously_unscoped.count() == 0
    assert worker(world).post(f"{PROD}/logs/", batch[:2], format="json").status_code == 201


def test_another_tenants_flow_run_is_a_404_and_nothing_is_written(world: World) -> None:
    mine, theirs = make_flow_run(world), make_flow_run(world, umbrella=True)
    batch = [line(mine, 0), line(theirs, 1)]
    response = worker(world).post(f"{PROD}/logs/", batch, format="json")
    assert response.status_code == 404
    assert response.json()["error"]["details"] == {"flow_run_ids": [str(theirs.id)]}
    missing = worker(world).post(f"{PROD}/logs/", [line(mine, 0, flow_run_id=str(uuid.uuid4()))], format="json")
    assert missing.status_code == 404
    assert Log.dangerously_unscoped.count() == 0


def test_a_staging_key_cannot_log_to_a_prod_run(world: World) -> None:
    run = make_flow_run(world)
    _, secret = service_account_key(world.alice, world.staging, "worker", name="staging-agent")
    staging = bearer(secret)
    assert staging.post(f"{PROD}/logs/", [line(run, 0)], format="json").status_code == 404
    staging_url = "/api/v1/orgs/acme/workspaces/staging/logs/"
    assert staging.post(staging_url, [line(run, 0)], format="json").status_code == 404
    assert Log.dangerously_unscoped.count() == 0


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"message": "nul\x00byte"}, "message"),
        ({"name": "nul\x00"}, "name"),
        ({"source": "\x00"}, "source"),
        ({"level": 5}, "level"),
        ({"level": 60}, "level"),
        ({"level": "loud"}, "level"),
        ({"seq": -1}, "seq"),
        ({"seq": 2**63}, "seq"),
        ({"seq": "one"}, "seq"),
        ({"timestamp": "yesterday"}, "timestamp"),
        ({"flow_run_id": "not-a-uuid"}, "flow_run_id"),
        ({"task_run_id": "nope"}, "task_run_id"),
        ({"source": "s" * 65}, "source"),
        ({"name": "n" * 100_000}, "name"),
    ],
)
def test_invalid_lines_are_a_400_naming_the_line_and_field(world: World, override: dict[str, Any], field: str) -> None:
    run = make_flow_run(world)
    bad = {**line(run, 1), **override}
    response = worker(world).post(f"{PROD}/logs/", [line(run, 0), bad], format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    # Unstorable text is caught by the JSON parser (path from the body's root), the rest by the serializer.
    by_line = error["details"].get("lines", error["details"])
    assert list(by_line) == ["1"]
    assert field in by_line["1"]
    assert Log.dangerously_unscoped.count() == 0


@pytest.mark.parametrize(
    "raw",
    [
        b'{"flow_run_id": "x"}',
        b'"a string"',
        b"null",
        b"[1, 2]",
        b'[{"message": "\\ud800 unpaired surrogate"}]',
        b"\xff\xfe not utf-8",
        b"[" * 10_000 + b"]" * 10_000,
        b'[{"flow_run_id": ',
    ],
)
def test_malformed_bodies_are_a_400_never_a_500(world: World, raw: bytes) -> None:
    response = worker(world).generic("POST", f"{PROD}/logs/", raw, content_type="application/json")
    assert response.status_code == 400, response.content
    assert Log.dangerously_unscoped.count() == 0


def test_an_unpaired_surrogate_in_a_valid_line_is_a_400(world: World) -> None:
    run = make_flow_run(world)
    body = json.dumps([line(run, 0, message="half \ud800 a pair")]).encode()
    response = worker(world).generic("POST", f"{PROD}/logs/", body, content_type="application/json")
    assert response.status_code == 400
    assert "message" in response.json()["error"]["details"]["0"]


def test_viewers_and_runners_cannot_send_logs(world: World) -> None:
    run = make_flow_run(world)
    assert session(world.bob).post(f"{PROD}/logs/", [line(run, 0)], format="json").status_code == 403
    _, secret = service_account_key(world.alice, world.prod, "runner", name="runner")
    assert bearer(secret).post(f"{PROD}/logs/", [line(run, 0)], format="json").status_code == 403
    assert Log.dangerously_unscoped.count() == 0


def test_an_empty_batch_is_accepted(world: World) -> None:
    response = worker(world).post(f"{PROD}/logs/", [], format="json")
    assert response.status_code == 201
    assert response.json() == {"accepted": 0, "duplicates": 0}
