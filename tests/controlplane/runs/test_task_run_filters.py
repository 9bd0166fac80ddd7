"""The task-run list's `task_key` (exact) and `task_name` (contains, any case) filters, within one workspace."""

from __future__ import annotations

from typing import Any

from controlplane.orgs.models import Workspace
from controlplane.runs.models import TaskRun
from tests.support.clients import bearer
from tests.support.runs import PROD
from tests.support.tenants import World, service_account_key

UMBRELLA = "/api/v1/orgs/umbrella/workspaces/prod"
STAGING = "/api/v1/orgs/acme/workspaces/staging"


def _run(workspace: Workspace, name: str, task_key: str, *, background: bool = True) -> str:
    run = TaskRun.dangerously_unscoped.create(workspace=workspace, name=name, task_key=task_key, background=background)
    return str(run.pk)


def _names(client: Any, base: str, **params: str) -> list[str]:
    response = client.get(f"{base}/task-runs/", {"page_size": "200", **params})
    assert response.status_code == 200, response.content
    return sorted(run["name"] for run in response.json()["results"])


def test_task_key_matches_exactly(world: World) -> None:
    _run(world.prod, "send_email", "send_email-1a2b")
    _run(world.prod, "send_email_batch", "send_email-1a2b3c")
    _run(world.prod, "resize", "resize-9f8e")
    client = bearer(service_account_key(world.alice, world.prod, "viewer")[1])

    assert _names(client, PROD, task_key="send_email-1a2b") == ["send_email"]
    assert _names(client, PROD, task_key="SEND_EMAIL-1A2B") == []
    assert _names(client, PROD, task_key="send_email") == []
    assert _names(client, PROD, task_key="") == ["resize", "send_email", "send_email_batch"]


def test_task_name_contains_in_any_case_and_combines_with_other_filters(world: World) -> None:
    _run(world.prod, "send_email", "send_email-1a2b")
    _run(world.prod, "Send_Email_Batch", "batch-77")
    _run(world.prod, "resize", "resize-9f8e")
    _run(world.prod, "email_inline", "email_inline-5", background=False)
    client = bearer(service_account_key(world.alice, world.prod, "viewer")[1])

    assert _names(client, PROD, task_name="EMAIL") == ["Send_Email_Batch", "email_inline", "send_email"]
    assert _names(client, PROD, task_name="email", background="true") == ["Send_Email_Batch", "send_email"]
    assert _names(client, PROD, task_name="email", task_key="batch-77") == ["Send_Email_Batch"]
    assert _names(client, PROD, task_name="email", state_type="RUNNING") == []
    assert _names(client, PROD, task_name="nothing-like-this") == []
    assert _names(client, PROD, task_name="   ") == ["Send_Email_Batch", "email_inline", "resize", "send_email"]


def test_filters_stay_inside_the_callers_workspace(world: World) -> None:
    own = _run(world.prod, "send_email", "send_email-1a2b")
    _run(world.staging, "send_email", "send_email-1a2b")
    _run(world.umbrella_prod, "send_email", "send_email-1a2b")
    acme = bearer(service_account_key(world.alice, world.prod, "viewer")[1])

    listed = acme.get(f"{PROD}/task-runs/", {"task_key": "send_email-1a2b", "task_name": "send"}).json()["results"]
    assert [run["id"] for run in listed] == [own]
    # The same key cannot reach another workspace or organisation, whatever the filter.
    assert acme.get(f"{STAGING}/task-runs/", {"task_key": "send_email-1a2b"}).status_code == 404
    assert acme.get(f"{UMBRELLA}/task-runs/", {"task_key": "send_email-1a2b"}).status_code == 404

    umbrella = bearer(service_account_key(world.charlie, world.umbrella_prod, "viewer")[1])
    others = umbrella.get(f"{UMBRELLA}/task-runs/", {"task_name": "send"}).json()["results"]
    assert len(others) == 1
    assert others[0]["id"] != own
