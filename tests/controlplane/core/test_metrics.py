from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from controlplane.flows.models import Flow
from controlplane.runs.models import FlowRun
from controlplane.runs.states import StateType
from controlplane.workpools.dispatch.services import agent_claim, agent_hello
from controlplane.workpools.dispatch.timings import dispatch_timings
from controlplane.workpools.models import Agent
from tests.controlplane.workpools.test_dispatch_support import due_run, make_fleet
from tests.support.runs import in_prod, make_run
from tests.support.tenants import World

TOKEN = "s3cret-metrics-token"


def scrape(client: Client) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """Metric samples by sample name, then by sorted label pairs."""
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


@pytest.fixture
def enabled(settings: Any) -> None:
    settings.TETHER_METRICS_TOKEN = TOKEN


@pytest.mark.django_db
def test_metrics_are_404_without_a_configured_token(client: Client, settings: Any) -> None:
    settings.TETHER_METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer anything").status_code == 404


@pytest.mark.django_db
@pytest.mark.usefixtures("enabled")
@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer ", TOKEN]
)
def test_metrics_refuse_a_missing_or_wrong_token(client: Client, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"tether_" not in response.content


@pytest.mark.django_db
@pytest.mark.usefixtures("enabled")
def test_request_latency_is_labelled_by_route_pattern_not_path(client: Client, world: World) -> None:
    run = make_run(world, StateType.RUNNING)
    client.force_login(world.alice)
    # The registry is per process and other tests in this worker also made requests: compare counts.
    before = scrape(client).get("tether_http_request_duration_seconds_count", {})
    assert client.get(f"/api/v1/orgs/acme/workspaces/prod/flow-runs/{run.pk}/").status_code == 200
    assert client.get("/healthz").status_code == 200

    samples = scrape(client)["tether_http_request_duration_seconds_count"]
    routes = {dict(labels)["route"] for labels in samples}
    assert not any(str(run.pk) in route for route in routes), routes
    grew = {labels for labels, count in samples.items() if count > before.get(labels, 0)}
    assert (("method", "GET"), ("route", "healthz"), ("status", "2xx")) in grew
    detail = [labels for labels in grew if "flow-runs" in dict(labels)["route"]]
    assert detail, routes
    assert all(dict(labels)["status"] == "2xx" for labels in detail)
    assert "tether_agent_claim_duration_seconds_count" in scrape(client)


@pytest.mark.django_db
@pytest.mark.usefixtures("enabled")
def test_runs_by_state_queue_depth_and_agents_span_every_workspace(client: Client, world: World) -> None:
    fleet = make_fleet(world)
    due_run(fleet)
    due_run(fleet)
    due_run(fleet, due_in=3600)  # scheduled, not yet due
    make_run(world, StateType.RUNNING)
    make_run(world, StateType.COMPLETED)
    other_flow = Flow.dangerously_unscoped.create(workspace=world.umbrella_prod, name="other")
    FlowRun.dangerously_unscoped.create(
        workspace=world.umbrella_prod,
        flow=other_flow,
        name="elsewhere",
        state_type=StateType.SCHEDULED,
        state_name="Scheduled",
        next_scheduled_start_time=timezone.now() - timedelta(minutes=1),
    )
    with in_prod(world):
        agent_hello(workspace=world.prod, name="fresh", pool_name="main", queues=[], capacity=1, version="")
        stale = agent_hello(workspace=world.prod, name="stale", pool_name="main", queues=[], capacity=1, version="")
    long_ago = timezone.now() - dispatch_timings().offline_after - timedelta(seconds=5)
    Agent.dangerously_unscoped.filter(pk=stale.pk).update(last_seen_at=long_ago)

    samples = scrape(client)
    runs = {dict(labels)["state"]: value for labels, value in samples["tether_flow_runs"].items()}
    assert runs == {state.value: 0.0 for state in StateType} | {"SCHEDULED": 4.0, "RUNNING": 1.0, "COMPLETED": 1.0}
    assert samples["tether_flow_runs_due"][()] == 3.0
    assert samples["tether_agents_online"][()] == 1.0


@pytest.mark.django_db
@pytest.mark.usefixtures("enabled")
def test_every_claim_is_timed(world: World) -> None:
    fleet = make_fleet(world)
    due_run(fleet)
    before = REGISTRY.get_sample_value("tether_agent_claim_duration_seconds_count") or 0.0
    with in_prod(world):
        agent = agent_hello(workspace=world.prod, name="a", pool_name="main", queues=[], capacity=1, version="")
        assert len(agent_claim(agent=agent, capacity=1)) == 1
        assert agent_claim(agent=agent, capacity=1) == []
    assert REGISTRY.get_sample_value("tether_agent_claim_duration_seconds_count") == before + 2
