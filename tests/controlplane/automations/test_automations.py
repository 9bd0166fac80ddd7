"""Automations: triggers evaluated against events, firings at most once, actions executed.

Evaluation and execution are called directly (in production a Celery task runs them after
commit and the periodic services catch anything missed).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from controlplane.automations.evaluation import deadlines_evaluate, events_evaluate_all
from controlplane.automations.execution import action_runs_execute_due
from controlplane.automations.models import ActionRun, DeliveryAttempt, Firing, TriggerBucket
from controlplane.blocks.models import BlockType
from controlplane.events.models import Event
from controlplane.runs.models import FlowRun
from tests.controlplane.automations.sink import Sink
from tests.support.runs import PROD, make_deployment
from tests.support.tenants import World

AUTOMATIONS = f"{PROD}/automations/"
EVENTS = f"{PROD}/events/"


def _automation(client: Any, trigger: dict[str, Any], actions: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    response = client.post(
        AUTOMATIONS, {"name": "auto", "trigger": trigger, "actions": actions, **extra}, format="json"
    )
    assert response.status_code == 201, response.content
    return dict(response.json())


def _send(client: Any, name: str, resource_id: str = "r", **extra: Any) -> None:
    event = {"event": name, "resource": {"tether.resource.id": resource_id}, **extra}
    assert client.post(EVENTS, [event], format="json").status_code == 202


def _pass() -> None:
    events_evaluate_all()
    action_runs_execute_due()


def _slack_block(client: Any, url: str) -> str:
    response = client.post(
        f"{PROD}/blocks/", {"block_type_slug": "slack-webhook", "name": "alerts", "data": {"url": url}}, format="json"
    )
    assert response.status_code == 201, response.content
    return str(response.json()["id"])


def test_a_failed_run_sends_a_slack_message_with_name_state_and_link(developer: Any, sink: Sink, world: World) -> None:
    block_id = _slack_block(developer, f"{sink.url}/services/T000/B000/secret")
    _automation(
        developer,
        {"type": "event", "expect": ["tether.flow-run.Failed"], "match": {"tether.resource.id": "tether.flow-run.*"}},
        [
            {
                "type": "send-notification",
                "block_id": block_id,
                "subject": "Run {{ flow_run.name }} is {{ flow_run.state }}",
                "body": "<{{ flow_run.url }}|open the run>",
            }
        ],
    )
    run = developer.post(f"{PROD}/flow-runs/", {"flow_name": "etl", "name": "brave-otter"}, format="json").json()
    for state in ("RUNNING", "FAILED"):
        answer = developer.post(f"{PROD}/flow-runs/{run['id']}/set-state/", {"state": {"type": state}}, format="json")
        assert answer.status_code == 200, answer.content
    _pass()
    (message,) = sink.wait_for(1)
    text = message.json()["text"]
    assert "brave-otter" in text
    assert "Failed" in text
    assert f"/o/acme/w/prod/flow-runs/{run['id']}" in text
    assert message.headers["idempotency-key"]
    firing = developer.get(f"{PROD}/automation-firings/").json()["results"][0]
    assert firing["action_runs"][0]["status"] == "succeeded"
    assert firing["action_runs"][0]["deliveries"][0]["target"] == sink.url
    assert "secret" not in str(firing)
    _pass()
    assert len(sink.received) == 1
    assert Event.dangerously_unscoped.filter(event="tether.automation.triggered").count() == 1
    assert Event.dangerously_unscoped.filter(event="tether.automation.action.executed").count() == 1


def test_proactive_expected_event_missing_runs_deployment_b(developer: Any, world: World) -> None:
    a = make_deployment(world, name="a")
    b = make_deployment(world, name="b")
    _automation(
        developer,
        {
            "type": "event",
            "posture": "proactive",
            "after": [
                {
                    "event": "tether.flow-run.Completed",
                    "match_related": {"tether.resource.id": f"tether.deployment.{a.pk}"},
                }
            ],
            "expect": [{"event": "file.arrived", "match": {"tether.resource.id": "s3://bucket/sales.csv"}}],
            "within": 10,
        },
        [{"type": "run-deployment", "deployment_id": str(b.pk)}],
    )

    def complete_a_run() -> None:
        run = developer.post(f"{PROD}/flow-runs/", {"deployment_id": str(a.pk)}, format="json").json()
        for state in ("PENDING", "RUNNING", "COMPLETED"):
            developer.post(f"{PROD}/flow-runs/{run['id']}/set-state/", {"state": {"type": state}}, format="json")

    def runs_of_b() -> int:
        return FlowRun.dangerously_unscoped.filter(deployment=b).count()

    # The file comes in time: B does not run.
    complete_a_run()
    _pass()
    _send(developer, "file.arrived", "s3://bucket/sales.csv")
    _pass()
    assert deadlines_evaluate(now=timezone.now() + timedelta(seconds=11)) == 0
    action_runs_execute_due()
    assert runs_of_b() == 0
    # Another file does not count; the window closes without it: B runs, once.
    complete_a_run()
    _pass()
    _send(developer, "file.arrived", "s3://bucket/other.csv")
    _pass()
    assert deadlines_evaluate(now=timezone.now() + timedelta(seconds=5)) == 0
    assert deadlines_evaluate(now=timezone.now() + timedelta(seconds=11)) == 1
    assert deadlines_evaluate(now=timezone.now() + timedelta(seconds=30)) == 0
    action_runs_execute_due()
    assert runs_of_b() == 1


def test_compound_all_within_30s_fires_exactly_once(developer: Any, world: World) -> None:
    deployment = make_deployment(world)
    automation = _automation(
        developer,
        {
            "type": "compound",
            "require": "all",
            "within": 30,
            "triggers": [{"expect": ["a.done"]}, {"expect": ["b.done"]}],
        },
        [{"type": "run-deployment", "deployment_id": str(deployment.pk)}],
    )
    _send(developer, "a.done")
    _pass()
    assert not Firing.dangerously_unscoped.exists()
    _send(developer, "b.done")
    _send(developer, "b.done")
    _pass()
    _pass()
    assert Firing.dangerously_unscoped.filter(automation_id=automation["id"]).count() == 1
    assert FlowRun.dangerously_unscoped.filter(deployment=deployment).count() == 1


def test_compound_parts_too_far_apart_do_not_fire(developer: Any, world: World) -> None:
    automation = _automation(
        developer,
        {
            "type": "compound",
            "require": "all",
            "within": 30,
            "triggers": [{"expect": ["a.done"]}, {"expect": ["b.done"]}],
        },
        [],
    )
    _send(developer, "a.done")
    _pass()
    bucket = TriggerBucket.dangerously_unscoped.get(automation_id=automation["id"], path="r")
    bucket.state["seen"]["0"]["at"] = (timezone.now() - timedelta(seconds=40)).isoformat()
    bucket.save()
    _send(developer, "b.done")
    _pass()
    assert not Firing.dangerously_unscoped.exists()


def test_sequence_fires_once_in_order_only(developer: Any, world: World) -> None:
    automation = _automation(
        developer,
        {"type": "sequence", "within": 60, "triggers": [{"expect": ["extract.done"]}, {"expect": ["load.done"]}]},
        [],
    )
    _send(developer, "load.done")
    _send(developer, "extract.done")
    _pass()
    assert not Firing.dangerously_unscoped.exists()
    _send(developer, "load.done")
    _pass()
    _send(developer, "load.done")
    _pass()
    assert Firing.dangerously_unscoped.filter(automation_id=automation["id"]).count() == 1


def test_threshold_within_and_for_each_count_per_resource(developer: Any) -> None:
    automation = _automation(
        developer,
        {"expect": ["job.failed"], "for_each": ["tether.resource.id"], "threshold": 3, "within": 60},
        [],
    )
    for resource_id in ("job-1", "job-1", "job-2", "job-2", "job-1"):
        _send(developer, "job.failed", resource_id)
    _pass()
    firings = Firing.dangerously_unscoped.filter(automation_id=automation["id"])
    assert firings.count() == 1
    triggering = firings.get().triggering_event
    assert triggering is not None
    assert triggering["resource"]["tether.resource.id"] == "job-1"


def test_reevaluating_the_same_events_neither_loses_nor_duplicates(developer: Any, world: World) -> None:
    deployment = make_deployment(world)
    _automation(developer, {"expect": ["ping"]}, [{"type": "run-deployment", "deployment_id": str(deployment.pk)}])
    _send(developer, "ping")
    events_evaluate_all()
    # A worker that committed the firing but died before its action: the events come back
    # unhandled (as after a rollback); the same cause makes the same firing key.
    Event.dangerously_unscoped.update(handled_at=None)
    TriggerBucket.dangerously_unscoped.all().delete()
    events_evaluate_all()
    assert Firing.dangerously_unscoped.count() == 1
    action_run = ActionRun.dangerously_unscoped.get()
    action_runs_execute_due()
    # Executed again (a retry after an unknown outcome): the run-deployment action is idempotent.
    ActionRun.dangerously_unscoped.filter(pk=action_run.pk).update(status="pending", next_attempt_at=timezone.now())
    action_runs_execute_due()
    assert FlowRun.dangerously_unscoped.filter(deployment=deployment).count() == 1


def test_webhook_event_runs_a_deployment_with_a_parameter_from_the_body(developer: Any, world: World) -> None:
    deployment = make_deployment(world)
    hook = developer.post(
        f"{PROD}/inbound-webhooks/",
        {
            "name": "s3",
            "template": {
                "event": "file.arrived",
                "resource": {"tether.resource.id": "s3://{{ body.key }}"},
                "payload": {"key": "{{ body.key }}", "rows": "{{ body.rows }}"},
            },
        },
        format="json",
    ).json()
    _automation(
        developer,
        {"expect": ["file.arrived"]},
        [
            {
                "type": "run-deployment",
                "deployment_id": str(deployment.pk),
                "parameters": {"path": "{{ event.payload.key }}", "rows": "{{ event.payload.rows }}"},
            }
        ],
    )
    from rest_framework.test import APIClient

    answer = APIClient().post(
        hook["url_path"], {"key": "sales/2026.csv", "rows": 12}, format="json", HTTP_X_TETHER_SECRET=hook["secret"]
    )
    assert answer.status_code == 202
    _pass()
    run = FlowRun.dangerously_unscoped.get(deployment=deployment)
    assert run.parameters == {"path": "sales/2026.csv", "rows": 12}
    assert "automation" in run.tags


def test_call_webhook_to_internal_addresses_is_refused_and_visible(developer: Any, world: World) -> None:
    for url in ("http://127.0.0.1:9/x", "http://169.254.169.254/", "http://[::1]/", "http://2130706433/"):
        response = developer.post(
            AUTOMATIONS,
            {"name": "x", "trigger": {"expect": ["e"]}, "actions": [{"type": "call-webhook", "url": url}]},
            format="json",
        )
        assert response.status_code == 422, url
        assert "Refusing to call" in response.json()["error"]["message"]


def test_a_redirect_to_metadata_is_refused_when_called_and_the_attempt_is_visible(developer: Any, sink: Sink) -> None:
    sink.answers["/hook"] = (302, {"Location": "http://169.254.169.254/latest/meta-data/"})
    _automation(developer, {"expect": ["e"]}, [{"type": "call-webhook", "url": f"{sink.url}/hook"}])
    _send(developer, "e")
    _pass()
    (action,) = developer.get(f"{PROD}/automation-firings/").json()["results"][0]["action_runs"]
    assert action["status"] == "failed"  # refused: not retried
    assert action["attempts"] == 1
    (delivery,) = action["deliveries"]
    assert delivery["outcome"] == "refused"
    assert "169.254.169.254" in delivery["error"]
    assert "link-local" in delivery["error"]
    assert [r.path for r in sink.received] == ["/hook"]
    assert Event.dangerously_unscoped.filter(event="tether.automation.action.failed").count() == 1


def test_a_failing_receiver_is_retried_with_backoff(developer: Any, sink: Sink) -> None:
    sink.answers["/hook"] = (503, {})
    _automation(developer, {"expect": ["e"]}, [{"type": "call-webhook", "url": f"{sink.url}/hook"}])
    _send(developer, "e")
    _pass()
    run = ActionRun.dangerously_unscoped.get()
    assert run.status == "pending"
    assert run.attempts == 1
    assert run.next_attempt_at is not None
    assert run.next_attempt_at > timezone.now()
    del sink.answers["/hook"]
    ActionRun.dangerously_unscoped.update(next_attempt_at=timezone.now())
    action_runs_execute_due()
    run.refresh_from_db()
    assert run.status == "succeeded"
    deliveries = DeliveryAttempt.dangerously_unscoped.filter(action_run=run).order_by("attempt")
    assert [d.outcome for d in deliveries] == ["failed", "delivered"]
    assert len({r.headers["idempotency-key"] for r in sink.received}) == 1


def test_actions_must_name_objects_of_this_workspace(developer: Any, world: World) -> None:
    from controlplane.flows.models import Deployment, Flow

    flow = Flow.dangerously_unscoped.create(workspace=world.umbrella_prod, name="x")
    foreign = Deployment.dangerously_unscoped.create(
        workspace=world.umbrella_prod, flow=flow, name="x", entrypoint="a:b"
    )
    response = developer.post(
        AUTOMATIONS,
        {
            "name": "x",
            "trigger": {"expect": ["e"]},
            "actions": [{"type": "run-deployment", "deployment_id": str(foreign.pk)}],
        },
        format="json",
    )
    assert response.status_code == 404
    bad_trigger = developer.post(AUTOMATIONS, {"name": "x", "trigger": {"type": "nope"}, "actions": []}, format="json")
    assert bad_trigger.status_code == 422
    assert BlockType.objects is not None


def test_pause_stops_evaluation_and_resume_starts_clean(developer: Any) -> None:
    automation = _automation(developer, {"expect": ["e"], "threshold": 2}, [])
    _send(developer, "e")
    _pass()
    assert developer.post(f"{AUTOMATIONS}{automation['id']}/pause/").json()["enabled"] is False
    _send(developer, "e")
    _pass()
    assert not Firing.dangerously_unscoped.exists()
    developer.post(f"{AUTOMATIONS}{automation['id']}/resume/")
    _send(developer, "e")
    _pass()
    assert not Firing.dangerously_unscoped.exists()  # the count started again from zero
    _send(developer, "e")
    _pass()
    assert Firing.dangerously_unscoped.count() == 1
