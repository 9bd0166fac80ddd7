"""The hand-built SQL of the run-creation path gives exactly what the ORM gives."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from controlplane.core.inserts import Row, insert_rows
from controlplane.core.queries import workspace_row_with_parent
from controlplane.core.tenancy import TenantContextMissing, tenant_scope
from controlplane.events.models import Event
from controlplane.flows.models import Deployment, Flow
from controlplane.runs.models import FlowRun, FlowRunState
from tests.support.tenants import World


def _deployment(world: World) -> Deployment:
    flow = Flow.dangerously_unscoped.create(workspace=world.prod, name="etl", tags=["a"])
    return Deployment.dangerously_unscoped.create(
        workspace=world.prod,
        flow=flow,
        name="nightly",
        entrypoint="flows/etl.py:etl",
        parameters={"n": 1, "nested": {"list": [1, "two", None]}},
        parameter_schema={"type": "object", "properties": {"n": {"type": "integer"}}},
        tags=["x", "y"],
        job_variables={"env": {"A": "1"}},
    )


def test_the_joined_lookup_equals_the_orm_row_field_by_field(world: World) -> None:
    deployment = _deployment(world)
    with tenant_scope(organization_id=world.acme.id, workspace_id=world.prod.id):
        expected = Deployment.objects.select_related("flow").get(pk=deployment.pk)
        with CaptureQueriesContext(connection) as queries:
            found = workspace_row_with_parent(Deployment, "flow", deployment.pk)
            assert found is not None
            flow = found.flow
    assert len(queries.captured_queries) == 1  # the parent came with the row
    for field in Deployment._meta.concrete_fields:
        assert getattr(found, field.attname) == getattr(expected, field.attname), field.name
    for field in Flow._meta.concrete_fields:
        assert getattr(flow, field.attname) == getattr(expected.flow, field.attname), field.name
    assert found.parameters == {"n": 1, "nested": {"list": [1, "two", None]}}
    assert not found._state.adding


def test_the_joined_lookup_sees_only_the_workspace_in_scope(world: World) -> None:
    deployment = _deployment(world)
    with tenant_scope(organization_id=world.acme.id, workspace_id=world.staging.id):
        assert workspace_row_with_parent(Deployment, "flow", deployment.pk) is None
    with tenant_scope(organization_id=world.acme.id, workspace_id=world.prod.id):
        assert workspace_row_with_parent(Deployment, "flow", uuid.uuid4()) is None
    with pytest.raises(TenantContextMissing):
        workspace_row_with_parent(Deployment, "flow", deployment.pk)


def _run_with_state_and_event(deployment: Deployment) -> tuple[FlowRun, FlowRunState, Event]:
    now = timezone.now()
    run = FlowRun(
        workspace_id=deployment.workspace_id,
        flow=deployment.flow,
        deployment=deployment,
        name="brave-otter",
        parameters={"n": 2},
        tags=["x"],
        state_type="SCHEDULED",
        state_name="Scheduled",
        state_timestamp=now,
        next_scheduled_start_time=now + timedelta(minutes=1),
    )
    state = FlowRunState(flow_run=run, type="SCHEDULED", name="Scheduled", timestamp=now, details={"k": [1]})
    event = Event(
        workspace_id=deployment.workspace_id,
        event="tether.flow-run.Scheduled",
        occurred=now,
        resource={"tether.resource.id": f"tether.flow-run.{run.id}"},
        resource_id=f"tether.flow-run.{run.id}",
    )
    return run, state, event


def test_one_statement_writes_rows_that_point_at_each_other(world: World) -> None:
    deployment = _deployment(world)
    run, state, event = _run_with_state_and_event(deployment)
    with tenant_scope(organization_id=world.acme.id, workspace_id=world.prod.id):
        with CaptureQueriesContext(connection) as queries:
            insert_rows([Row(run), Row(state), Row(event, skip_conflicts=True)])
        assert len(queries.captured_queries) == 1
        stored = FlowRun.objects.get(pk=run.pk)
    assert not run._state.adding
    assert run.created_at is not None  # auto_now_add ran, as save() would
    for field in FlowRun._meta.concrete_fields:
        assert getattr(stored, field.attname) == getattr(run, field.attname), field.name
    history = list(FlowRunState.objects.filter(flow_run_id=run.pk).values_list("type", "details"))
    assert history == [("SCHEDULED", {"k": [1]})]
    assert Event.dangerously_unscoped.filter(id=event.id, resource_id=f"tether.flow-run.{run.id}").count() == 1


def test_a_conflicting_row_is_skipped_only_where_asked(world: World) -> None:
    deployment = _deployment(world)
    run, state, event = _run_with_state_and_event(deployment)
    with tenant_scope(organization_id=world.acme.id, workspace_id=world.prod.id):
        insert_rows([Row(run), Row(state), Row(event, skip_conflicts=True)])
        again, again_state, _ = _run_with_state_and_event(deployment)
        insert_rows([Row(again), Row(again_state), Row(event, skip_conflicts=True)])  # the event's id again
        assert Event.dangerously_unscoped.filter(id=event.id).count() == 1
        assert FlowRun.objects.filter(pk__in=[run.pk, again.pk]).count() == 2


def test_a_row_of_another_workspace_is_refused_before_any_write(world: World) -> None:
    deployment = _deployment(world)
    run, state, event = _run_with_state_and_event(deployment)
    with (
        tenant_scope(organization_id=world.acme.id, workspace_id=world.staging.id),
        pytest.raises(TenantContextMissing),
    ):
        insert_rows([Row(run), Row(state), Row(event)])
    assert not FlowRun.dangerously_unscoped.filter(pk=run.pk).exists()
