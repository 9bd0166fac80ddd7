"""The flow-run payload is built by hand for speed; it must stay what DRF's declared fields give."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from controlplane.runs.api.serializers import FlowRunSerializer, flow_run_row_representation
from controlplane.runs.models import FlowRun
from controlplane.runs.selectors.runs import flow_run_rows
from controlplane.runs.states import StateType
from controlplane.workpools.models import WorkPool, WorkQueue
from tests.support.runs import in_prod, make_deployment, make_run
from tests.support.tenants import World


def _declared(run: FlowRun) -> bytes:
    generic = serializers.ModelSerializer.to_representation(FlowRunSerializer(), run)
    return bytes(JSONRenderer().render(generic))


def _fast(run: FlowRun) -> bytes:
    return bytes(JSONRenderer().render(FlowRunSerializer(run).data))


def _listed(run: FlowRun) -> bytes:
    (row,) = flow_run_rows(FlowRun.objects.filter(pk=run.pk))
    return bytes(JSONRenderer().render(flow_run_row_representation(row)))


def test_hand_built_payload_equals_the_declared_fields(world: World) -> None:
    pool = WorkPool.dangerously_unscoped.create(workspace=world.prod, name="pool")
    queue = WorkQueue.dangerously_unscoped.create(workspace=world.prod, pool=pool, name="q")
    deployment = make_deployment(world, tags=["etl"], work_pool=pool, work_queue=queue)
    berlin = datetime(2026, 3, 29, 2, 30, 15, 123456, tzinfo=ZoneInfo("Europe/Berlin"))
    runs = [
        make_run(world),
        make_run(world, StateType.RUNNING, deployment=deployment, tags=["a", "b"], parameters={"n": [1, None]}),
        make_run(
            world,
            StateType.COMPLETED,
            deployment=deployment,
            idempotency_key="k",
            expected_start_time=berlin,
            next_scheduled_start_time=berlin + timedelta(days=1),
            start_time=berlin,
            end_time=berlin + timedelta(seconds=3),
            total_run_time=3.25,
            run_count=2,
            max_retries=4,
            epoch=7,
            job_variables={"env": {"A": "1"}},
        ),
    ]
    with in_prod(world):
        for run in runs:
            for loaded in (run, FlowRun.objects.select_related("flow", "deployment").get(pk=run.pk)):
                assert _fast(loaded) == _declared(loaded)
            assert _listed(run) == _declared(run)
    assert set(FlowRunSerializer(runs[0]).data) == set(FlowRunSerializer.Meta.fields)
