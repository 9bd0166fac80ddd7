"""The embedded mode works with no external services."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth import authenticate
from django.test import Client

from controlplane.core.demo import DEMO_EMAIL, provision_demo
from tests.support.tenants import World

pytestmark = pytest.mark.django_db


def test_embedded_settings_use_no_external_services() -> None:
    assert settings.TETHER_MODE == "embedded"
    assert settings.REDIS_URL is None
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == "channels.layers.InMemoryChannelLayer"
    assert settings.TETHER_RUN_SERVICES_IN_PROCESS is True


def test_readyz_is_ready_without_redis(client: Client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "redis": "not configured"}


def test_server_info_reports_embedded_mode(client: Client) -> None:
    assert client.get("/api/v1/info/").json()["mode"] == "embedded"


@pytest.mark.django_db(transaction=True)
def test_demo_provisioning_is_idempotent_and_signs_in() -> None:
    first = provision_demo(public_url="http://127.0.0.1:8000")
    second = provision_demo(public_url="http://127.0.0.1:8000")
    assert first == second
    assert first.email == DEMO_EMAIL
    assert authenticate(email=DEMO_EMAIL, password=first.password) is not None
    credentials_file = settings.VAR_DIR / "demo_credentials.json"
    assert credentials_file.stat().st_mode & 0o777 == 0o600


def test_scheduler_and_late_runs_work_on_sqlite(world: World) -> None:
    from datetime import timedelta

    from controlplane.flows.models import DeploymentSchedule
    from controlplane.runs.models import FlowRun
    from controlplane.services import scheduler
    from controlplane.services.scheduler import Horizon
    from tests.support.runs import make_deployment

    deployment = make_deployment(world)
    DeploymentSchedule.dangerously_unscoped.create(
        workspace=world.prod, deployment=deployment, kind="cron", cron="*/10 * * * *"
    )
    horizon = Horizon(min_runs=3, max_runs=100, min_time=timedelta(hours=1), max_time=timedelta(days=1))
    assert scheduler.tick(horizon=horizon) == 6
    assert scheduler.tick(horizon=horizon) == 0
    assert FlowRun.dangerously_unscoped.filter(auto_scheduled=True).count() == 6


def test_logs_and_artifact_keys_work_on_sqlite(world: World) -> None:
    """The PostgreSQL fast paths (unnest, DISTINCT ON) have SQLite equivalents."""
    from django.utils import timezone

    from controlplane.runs.selectors.artifacts import artifact_keys_latest
    from controlplane.runs.services.artifacts import artifact_create
    from controlplane.runs.services.logs import LogLine, logs_ingest
    from tests.support.runs import in_prod, make_run

    run = make_run(world, "RUNNING")
    lines = [
        LogLine(flow_run_id=run.pk, seq=i, level=20, message=f"line {i}", timestamp=timezone.now()) for i in range(3)
    ]
    with in_prod(world):
        first = logs_ingest(workspace=world.prod, lines=lines)
        again = logs_ingest(workspace=world.prod, lines=[*lines, lines[0]])
        assert (first.accepted, first.duplicates) == (3, 0)
        assert (again.accepted, again.duplicates) == (0, 4)
        artifact_create(workspace=world.prod, type="markdown", data="v1", key="report", flow_run_id=run.pk)
        newest = artifact_create(workspace=world.prod, type="markdown", data="v2", key="report", flow_run_id=run.pk)
        artifact_create(workspace=world.prod, type="markdown", data="x", key="other", flow_run_id=run.pk)
        latest = {artifact.key: artifact.pk for artifact in artifact_keys_latest(workspace=world.prod)}
    assert latest["report"] == newest.pk
    assert set(latest) == {"report", "other"}


def test_runs_are_created_and_listed_through_the_api_on_sqlite(world: World) -> None:
    # The creation path writes with hand-built SQL (core/inserts.py, core/queries.py): SQLite too.
    from controlplane.runs.models import FlowRun, FlowRunState
    from tests.support.clients import bearer
    from tests.support.runs import make_deployment
    from tests.support.tenants import service_account_key

    deployment = make_deployment(world)
    _, secret = service_account_key(world.alice, world.prod, "developer")
    client = bearer(secret)
    url = "/api/v1/orgs/acme/workspaces/prod/flow-runs/"
    created = client.post(url, {"deployment_id": str(deployment.id), "parameters": {"n": 2}}, format="json")
    assert created.status_code == 201, created.content
    run = FlowRun.dangerously_unscoped.get(pk=created.json()["id"])
    assert run.parameters["n"] == 2
    assert list(FlowRunState.objects.filter(flow_run=run).values_list("type", flat=True)) == ["SCHEDULED"]
    listed = client.get(url)
    assert [item["id"] for item in listed.json()["results"]] == [str(run.id)]
    assert listed.json()["results"][0]["flow_name"] == run.flow.name
