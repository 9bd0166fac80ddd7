"""Inbound webhooks: CRUD through the tenant API, `POST /hooks/{slug}` with the secret → event."""

from __future__ import annotations

from typing import Any

import pytest
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from controlplane.events.models import Event, InboundWebhook
from tests.support.clients import bearer
from tests.support.tenants import World, service_account_key

HOOKS = "/api/v1/orgs/acme/workspaces/prod/inbound-webhooks/"
TEMPLATE = {
    "event": "file.arrived",
    "resource": {"tether.resource.id": "s3://{{ body.bucket }}/{{ body.key }}", "size": "{{ body.size }}"},
    "payload": {"size": "{{ body.size }}", "source": "{{ headers['x-source'] }}"},
}


@pytest.fixture
def developer(world: World) -> Any:
    _, secret = service_account_key(world.alice, world.prod, "developer", name="dev")
    return bearer(secret)


def _create(client: Any, template: Any = TEMPLATE) -> dict[str, Any]:
    response = client.post(HOOKS, {"name": "s3", "template": template}, format="json")
    assert response.status_code == 201, response.content
    return dict(response.json())


def test_a_post_with_the_secret_becomes_an_event(developer: Any, world: World) -> None:
    created = _create(developer)
    assert "secret" in created
    assert "secret_hash" not in created
    assert "secret" not in developer.get(f"{HOOKS}{created['id']}/").json()
    response = APIClient().post(
        created["url_path"],
        {"bucket": "sales", "key": "2026.csv", "size": 42},
        format="json",
        HTTP_X_TETHER_SECRET=created["secret"],
        HTTP_X_SOURCE="s3-notifier",
    )
    assert response.status_code == 202, response.content
    event = Event.dangerously_unscoped.get(workspace=world.prod, event="file.arrived")
    assert event.resource_id == "s3://sales/2026.csv"
    assert event.payload == {"size": 42, "source": "s3-notifier"}
    assert event.related[-1]["tether.resource.id"] == f"tether.webhook.{created['id']}"


def test_wrong_secret_unknown_slug_and_disabled_hooks_all_answer_404(developer: Any, world: World) -> None:
    created = _create(developer)
    client = APIClient()
    assert client.post(created["url_path"], {}, format="json", HTTP_X_TETHER_SECRET="nope").status_code == 404
    assert client.post("/hooks/unknown", {}, format="json", HTTP_X_TETHER_SECRET=created["secret"]).status_code == 404
    developer.patch(f"{HOOKS}{created['id']}/", {"enabled": False}, format="json")
    disabled = client.post(created["url_path"], {}, format="json", HTTP_X_TETHER_SECRET=created["secret"])
    assert disabled.status_code == 404
    assert not Event.dangerously_unscoped.filter(workspace=world.prod).exists()


def test_rotating_the_secret_retires_the_old_one(developer: Any) -> None:
    created = _create(developer)
    new = developer.post(f"{HOOKS}{created['id']}/rotate-secret/").json()["secret"]
    body = {"bucket": "b", "key": "k"}
    client = APIClient()
    assert (
        client.post(created["url_path"], body, format="json", HTTP_X_TETHER_SECRET=created["secret"]).status_code == 404
    )
    assert client.post(created["url_path"], body, format="json", HTTP_AUTHORIZATION=f"Bearer {new}").status_code == 202


def test_a_template_that_makes_an_invalid_event_answers_400(developer: Any, world: World) -> None:
    created = _create(developer, {"event": "{{ body.name }}", "resource": {"tether.resource.id": "x"}})
    response = APIClient().post(
        created["url_path"], {"name": ""}, format="json", HTTP_X_TETHER_SECRET=created["secret"]
    )
    assert response.status_code == 400
    assert not Event.dangerously_unscoped.filter(workspace=world.prod).exists()


def test_bad_templates_are_refused_when_saved(developer: Any) -> None:
    assert developer.post(HOOKS, {"name": "x", "template": {"payload": {}}}, format="json").status_code == 422
    bad_path = {"event": "x", "payload": {"v": "{{ body.__class__() }}"}}
    assert developer.post(HOOKS, {"name": "x", "template": bad_path}, format="json").status_code == 422


def test_oversized_bodies_and_floods_are_refused(developer: Any, settings: Settings) -> None:
    settings.TETHER_WEBHOOK_MAX_BYTES = 1024
    settings.TETHER_WEBHOOK_CALLS_PER_MINUTE = 2
    created = _create(developer)
    client = APIClient()
    big = client.post(created["url_path"], {"key": "x" * 2000}, format="json", HTTP_X_TETHER_SECRET=created["secret"])
    assert big.status_code == 413
    codes = [
        client.post(
            created["url_path"], {"bucket": "b", "key": "k"}, format="json", HTTP_X_TETHER_SECRET=created["secret"]
        ).status_code
        for _ in range(3)
    ]
    assert codes == [202, 202, 429]


def test_webhooks_of_another_workspace_are_invisible(developer: Any, world: World) -> None:
    created = _create(developer)
    _, charlie = service_account_key(world.charlie, world.umbrella_prod, "owner", name="c")
    other = bearer(charlie)
    assert other.get(f"/api/v1/orgs/acme/workspaces/prod/inbound-webhooks/{created['id']}/").status_code == 404
    assert InboundWebhook.dangerously_unscoped.count() == 1
