"""Events API: batch ingestion with limits, idempotent ids, filters, counts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pytest_django.fixtures import Settings

from controlplane.events.models import Event
from tests.support.clients import bearer, session
from tests.support.tenants import World, service_account_key

PROD = "/api/v1/orgs/acme/workspaces/prod"
EVENTS = f"{PROD}/events/"


def _event(name: str = "file.arrived", resource_id: str = "s3://bucket/a.csv", **extra: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "event": name, "resource": {"tether.resource.id": resource_id}, **extra}


@pytest.fixture
def developer(world: World) -> Any:
    _, secret = service_account_key(world.alice, world.prod, "developer", name="dev")
    return bearer(secret)


def test_a_batch_is_recorded_and_a_resend_is_a_no_op(developer: Any, world: World) -> None:
    batch = [_event(), _event("file.deleted")]
    first = developer.post(EVENTS, batch, format="json")
    assert first.status_code == 202, first.content
    assert first.json() == {"received": 2, "recorded": 2}
    again = developer.post(EVENTS, {"events": batch}, format="json")
    assert again.json() == {"received": 2, "recorded": 0}
    assert Event.dangerously_unscoped.filter(workspace=world.prod).count() == 2


def test_another_tenant_reusing_an_id_gets_its_own_event(developer: Any, world: World) -> None:
    event = _event()
    developer.post(EVENTS, [event], format="json")
    _, charlie_key = service_account_key(world.charlie, world.umbrella_prod, "developer", name="c")
    answer = bearer(charlie_key).post("/api/v1/orgs/umbrella/workspaces/prod/events/", [event], format="json")
    assert answer.json()["recorded"] == 1
    assert Event.dangerously_unscoped.filter(id=event["id"]).count() == 2


def test_batch_and_event_size_limits_answer_413_naming_the_limit(
    developer: Any, world: World, settings: Settings
) -> None:
    settings.TETHER_EVENTS_MAX_BATCH = 3
    settings.TETHER_EVENT_MAX_BYTES = 2048
    too_many = developer.post(EVENTS, [_event() for _ in range(4)], format="json")
    assert too_many.status_code == 413
    assert too_many.json()["error"]["details"]["limit_events"] == 3
    too_big = developer.post(EVENTS, [_event(), _event(payload={"x": "y" * 3000})], format="json")
    assert too_big.status_code == 413
    assert too_big.json()["error"]["details"] == {"limit_bytes": 2048, "index": 1}
    assert not Event.dangerously_unscoped.filter(workspace=world.prod).exists()


@pytest.mark.parametrize(
    "bad",
    [
        {"event": "x"},
        {"event": "x", "resource": {"name": "no id"}},
        {"event": "x", "resource": {"tether.resource.id": 5}},
        {"event": "tether.flow-run.Failed", "resource": {"tether.resource.id": "r"}},
        {"event": "x", "resource": {"tether.resource.id": "r"}, "related": [{"no": "id"}]},
        {"event": "x", "resource": {"tether.resource.id": "r"}, "occurred": "yesterday"},
    ],
)
def test_invalid_events_are_refused_and_nothing_is_recorded(developer: Any, world: World, bad: dict[str, Any]) -> None:
    response = developer.post(EVENTS, [_event(), bad], format="json")
    assert response.status_code == 400, response.content
    assert "1" in response.json()["error"]["details"] or response.json()["error"]["details"]
    assert not Event.dangerously_unscoped.filter(workspace=world.prod).exists()


def test_viewers_read_but_cannot_send(world: World) -> None:
    viewer = session(world.bob)
    assert viewer.get(EVENTS).status_code == 200
    assert viewer.post(EVENTS, [_event()], format="json").status_code == 403


def test_filters_by_time_name_pattern_resource_and_related(developer: Any, world: World) -> None:
    base = datetime(2026, 1, 1, tzinfo=UTC)
    related = [{"tether.resource.id": "tether.deployment.abc", "tether.resource.role": "deployment"}]
    developer.post(
        EVENTS,
        [
            _event("file.arrived", "s3://b/1", occurred=(base).isoformat()),
            _event("file.deleted", "s3://b/2", occurred=(base + timedelta(hours=1)).isoformat()),
            _event("job.done", "airflow://dag/x", occurred=(base + timedelta(hours=2)).isoformat(), related=related),
        ],
        format="json",
    )

    def names(**params: str) -> list[str]:
        response = developer.get(EVENTS, params)
        assert response.status_code == 200, response.content
        return [item["event"] for item in response.json()["results"]]

    assert names() == ["job.done", "file.deleted", "file.arrived"]
    assert names(event="file.*") == ["file.deleted", "file.arrived"]
    assert names(event="*.done,file.arrived") == ["job.done", "file.arrived"]
    assert names(resource_id="s3://b/2") == ["file.deleted"]
    assert names(resource_id="s3://*") == ["file.deleted", "file.arrived"]
    assert names(related_resource_id="tether.deployment.abc") == ["job.done"]
    assert names(since=(base + timedelta(minutes=30)).isoformat(), until=(base + timedelta(hours=2)).isoformat()) == [
        "file.deleted"
    ]
    assert developer.get(EVENTS, {"since": "2026-01-01T00:00:00"}).status_code == 422


def test_counts_by_bucket_and_name(developer: Any) -> None:
    base = datetime(2026, 1, 1, 10, tzinfo=UTC)
    developer.post(
        EVENTS,
        [
            _event("a", occurred=base.isoformat()),
            _event("a", occurred=(base + timedelta(minutes=5)).isoformat()),
            _event("b", occurred=(base + timedelta(hours=1)).isoformat()),
        ],
        format="json",
    )
    hours = developer.get(f"{EVENTS}counts/", {"interval": "hour"}).json()
    assert [(row["start"][:13], row["count"]) for row in hours] == [("2026-01-01T10", 2), ("2026-01-01T11", 1)]
    by_name = developer.get(f"{EVENTS}counts/", {"interval": "day", "by": "event"}).json()
    assert [(row["event"], row["count"]) for row in by_name] == [("a", 2), ("b", 1)]
    assert developer.get(f"{EVENTS}counts/", {"interval": "week"}).status_code == 422


def test_control_plane_events_are_listed_after_a_run_changes_state(developer: Any, world: World) -> None:
    flow_run = developer.post(f"{PROD}/flow-runs/", {"flow_name": "etl"}, format="json").json()
    listed = developer.get(EVENTS, {"event": "tether.flow-run.*", "resource_id": f"tether.flow-run.{flow_run['id']}"})
    assert [item["event"] for item in listed.json()["results"]] == ["tether.flow-run.Scheduled"]


def test_templates_render_paths_only() -> None:
    from controlplane.events.templating import TemplateError, check_template, render

    context = {"flow_run": {"name": "x", "state": "Failed"}, "event": {"resource": {"tether.resource.id": "r"}}}
    assert render("{{ flow_run.name }} is {{ flow_run.state }}", context) == "x is Failed"
    assert render({"n": "{{ flow_run }}"}, context) == {"n": {"name": "x", "state": "Failed"}}
    assert render("{{ event.resource['tether.resource.id'] }}", context) == "r"
    assert render("{{ missing.path }}!", context) == "!"
    for bad in ("{{ flow_run.name.__class__() }}", "{{ 1 + 1 }}", "{{ a|b }}"):
        with pytest.raises(TemplateError):
            check_template(bad)
