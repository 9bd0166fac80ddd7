"""Reading a run's logs: oldest first, filters, keyset paging without gaps or repeats, tenants apart."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from controlplane.core.tenancy import tenant_scope
from controlplane.runs.models import FlowRun
from controlplane.runs.services.logs import LogLine, logs_ingest
from tests.controlplane.runs.test_logs import make_flow_run
from tests.support.clients import session
from tests.support.tenants import World

PROD = "/api/v1/orgs/acme/workspaces/prod"
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def ingest(world: World, run: FlowRun, lines: list[dict[str, Any]]) -> None:
    workspace = world.umbrella_prod if run.workspace_id == world.umbrella_prod.id else world.prod
    with tenant_scope(organization_id=workspace.organization_id, workspace_id=workspace.id):
        for start in range(0, len(lines), 1000):
            logs_ingest(
                workspace=workspace,
                lines=[LogLine(flow_run_id=run.id, **values) for values in lines[start : start + 1000]],
            )


def _line(seq: int, *, at: datetime | None = None, **fields: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "seq": seq,
        "level": 20,
        "message": f"line {seq}",
        "timestamp": at or T0 + timedelta(seconds=seq),
    }
    values.update(fields)
    return values


def logs_url(run: FlowRun, query: str = "") -> str:
    return f"{PROD}/flow-runs/{run.id}/logs/{query}"


def messages(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["message"] for row in response.json()["results"]]


def test_lines_come_oldest_first_whatever_the_arrival_order(world: World) -> None:
    run = make_flow_run(world)
    # Sent newest first; two lines share a timestamp and keep their arrival order.
    ingest(world, run, [_line(3), _line(2), _line(1, at=T0), _line(0, at=T0)])
    assert messages(session(world.alice).get(logs_url(run))) == ["line 1", "line 0", "line 2", "line 3"]


def test_a_line_has_every_field(world: World) -> None:
    run = make_flow_run(world)
    task_run_id = uuid.uuid4()
    ingest(world, run, [_line(0, task_run_id=task_run_id, source="agent", name="tether.agent", level=30)])
    (row,) = session(world.bob).get(logs_url(run)).json()["results"]
    assert row["flow_run_id"] == str(run.id)
    assert row["task_run_id"] == str(task_run_id)
    assert (row["source"], row["seq"], row["level"], row["name"]) == ("agent", 0, 30, "tether.agent")
    assert datetime.fromisoformat(row["timestamp"]) == T0
    assert set(row) == {"id", "flow_run_id", "task_run_id", "source", "seq", "level", "name", "message", "timestamp"}


def test_filters_by_minimum_level_task_run_and_text(world: World) -> None:
    run = make_flow_run(world)
    task_a, task_b = uuid.uuid4(), uuid.uuid4()
    ingest(
        world,
        run,
        [
            _line(0, level=10, message="debug detail"),
            _line(1, level=20, message="Loaded 10% of rows", task_run_id=task_a),
            _line(2, level=30, message="disk almost FULL", task_run_id=task_b),
            _line(3, level=40, message="Failed: disk full", task_run_id=task_a),
            _line(4, level=50, message="loaded_rows gone"),
        ],
    )
    alice = session(world.alice)
    assert messages(alice.get(logs_url(run, "?level=30"))) == [
        "disk almost FULL",
        "Failed: disk full",
        "loaded_rows gone",
    ]
    assert messages(alice.get(logs_url(run, f"?task_run_id={task_a}"))) == ["Loaded 10% of rows", "Failed: disk full"]
    assert messages(alice.get(logs_url(run, "?q=DISK"))) == ["disk almost FULL", "Failed: disk full"]
    assert messages(alice.get(logs_url(run, "?q=disk+FULL"))) == ["Failed: disk full"]
    assert messages(alice.get(logs_url(run, f"?q=disk&level=40&task_run_id={task_a}"))) == ["Failed: disk full"]
    # LIKE wildcards are literal text.
    assert messages(alice.get(logs_url(run, "?q=10%25"))) == ["Loaded 10% of rows"]
    assert messages(alice.get(logs_url(run, "?q=disk_almost"))) == []
    assert messages(alice.get(logs_url(run, "?q=loaded_rows"))) == ["loaded_rows gone"]


@pytest.mark.parametrize(
    "query",
    ["?level=loud", "?level=-1", "?level=99", "?task_run_id=nope", "?q=nul%00", "?q=" + "x" * 201, "?cursor=junk"],
)
def test_bad_query_parameters_are_a_400(world: World, query: str) -> None:
    run = make_flow_run(world)
    response = session(world.alice).get(logs_url(run, query))
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "invalid"


@pytest.mark.parametrize(
    "payload",
    [
        {"t": "2025-01-01T00:00:00", "i": 1},  # naive
        {"t": "2025-01-01T00:00:00+00:00", "i": 2**63},  # beyond a bigint
        {"t": "2025-01-01T00:00:00+00:00", "i": -1},
        {"t": "2025-01-01T00:00:00+00:00", "i": "1"},
        {"t": 5, "i": 1},
        {"i": 1},
        [1, 2],
    ],
)
def test_forged_cursors_are_a_400_never_a_500(world: World, payload: Any) -> None:
    run = make_flow_run(world)
    cursor = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()
    response = session(world.alice).get(logs_url(run, f"?cursor={cursor}"))
    assert response.status_code == 400
    assert "cursor" in response.json()["error"]["details"]


def test_another_tenants_run_is_a_404_and_shows_nothing(world: World) -> None:
    theirs = make_flow_run(world, umbrella=True)
    ingest(world, theirs, [_line(0, message="umbrella secret")])
    response = session(world.alice).get(logs_url(theirs))
    assert response.status_code == 404
    assert "umbrella secret" not in response.content.decode()
    assert session(world.alice).get(logs_url(theirs).replace(str(theirs.id), str(uuid.uuid4()))).status_code == 404
    charlie_url = f"/api/v1/orgs/umbrella/workspaces/prod/flow-runs/{theirs.id}/logs/"
    assert messages(session(world.charlie).get(charlie_url)) == ["umbrella secret"]


def test_one_runs_lines_never_show_under_another_run(world: World) -> None:
    first, second = make_flow_run(world, name="a"), make_flow_run(world, name="b")
    ingest(world, first, [_line(0, message="first")])
    ingest(world, second, [_line(0, message="second")])
    assert messages(session(world.alice).get(logs_url(second))) == ["second"]


def test_paging_through_2500_lines_has_no_gaps_or_repeats(world: World) -> None:
    run = make_flow_run(world)
    # 2,500 lines over only 7 timestamps, sent out of order: most ties are broken by arrival.
    lines = [_line(seq, at=T0 + timedelta(seconds=(seq * 7919) % 7)) for seq in range(2500)]
    ingest(world, run, lines)
    alice = session(world.alice)
    seen: list[int] = []
    url: str | None = logs_url(run, "?page_size=90")
    pages = 0
    while url:
        body = alice.get(url).json()
        seen.extend(row["seq"] for row in body["results"])
        url = body["next"]
        pages += 1
        assert pages < 100, "paging does not end"
    assert len(seen) == 2500
    assert len(set(seen)) == 2500
    timestamps = [(seq * 7919) % 7 for seq in seen]
    assert timestamps == sorted(timestamps)
    assert pages == 2500 // 90 + 2  # the last page ends with an empty page (next is null only there)


def test_previous_links_page_back_exactly(world: World) -> None:
    run = make_flow_run(world)
    ingest(world, run, [_line(seq, at=T0 + timedelta(seconds=seq % 3)) for seq in range(50)])
    alice = session(world.alice)
    first = alice.get(logs_url(run, "?page_size=10")).json()
    assert first["previous"] is None
    second = alice.get(first["next"]).json()
    third = alice.get(second["next"]).json()
    back = alice.get(third["previous"]).json()
    assert [row["id"] for row in back["results"]] == [row["id"] for row in second["results"]]
    assert back["next"] == second["next"]
    start = alice.get(back["previous"]).json()
    assert [row["id"] for row in start["results"]] == [row["id"] for row in first["results"]]
    assert start["previous"] is None


def test_following_the_last_next_link_later_returns_the_new_lines(world: World) -> None:
    run = make_flow_run(world)
    ingest(world, run, [_line(seq) for seq in range(3)])
    alice = session(world.alice)
    body = alice.get(logs_url(run)).json()
    assert len(body["results"]) == 3
    tail = body["next"]
    caught_up = alice.get(tail).json()
    assert (caught_up["results"], caught_up["next"]) == ([], None)
    ingest(world, run, [_line(seq) for seq in range(3, 5)])
    assert messages(alice.get(tail)) == ["line 3", "line 4"]


def test_page_size_defaults_to_200_and_is_capped_at_1000(world: World) -> None:
    run = make_flow_run(world)
    ingest(world, run, [_line(seq) for seq in range(1200)])
    alice = session(world.alice)
    assert len(alice.get(logs_url(run)).json()["results"]) == 200
    assert len(alice.get(logs_url(run, "?page_size=1000000")).json()["results"]) == 1000
    assert len(alice.get(logs_url(run, "?page_size=-3")).json()["results"]) == 200


def test_the_query_count_does_not_grow_with_the_page(world: World) -> None:
    run = make_flow_run(world)
    ingest(world, run, [_line(seq) for seq in range(300)])
    alice = session(world.alice)
    alice.get(logs_url(run, "?page_size=1"))  # warm the session
    counts = []
    for size in (1, 300):
        with CaptureQueriesContext(connection) as queries:
            assert alice.get(logs_url(run, f"?page_size={size}")).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
