"""A deployment may only refer to blocks that exist in its workspace: a 422 naming the reference."""

from __future__ import annotations

from typing import Any

import pytest

from controlplane.flows.models import Deployment
from tests.controlplane.blocks.support import make_block
from tests.support.clients import session
from tests.support.runs import PROD
from tests.support.tenants import World

DEPLOYMENTS = f"{PROD}/deployments/"
GIT = {"type": "git", "url": "https://git.example/acme/etl.git", "ref": "main"}


def _body(**fields: Any) -> dict[str, Any]:
    return {"flow_name": "etl", "name": "nightly", "entrypoint": "flows/etl.py:etl", **fields}


def _refused(response: Any, *labels: str) -> dict[str, Any]:
    assert response.status_code == 422, response.content
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == "validation_failed"
    for label in labels:
        assert label in error["message"]
    return error


@pytest.mark.parametrize(
    ("credentials_block", "label"),
    [
        ("acme", "git-credentials/acme"),
        ("git-credentials/acme", "git-credentials/acme"),
        ("{{ block.git-credentials.acme }}", "git-credentials/acme"),
        ("0b6e6c1e-0000-4000-8000-000000000000", "0b6e6c1e-0000-4000-8000-000000000000"),
    ],
)
def test_a_missing_credentials_block_is_refused_on_create(world: World, credentials_block: str, label: str) -> None:
    body = _body(source={**GIT, "credentials_block": credentials_block})
    error = _refused(session(world.alice).post(DEPLOYMENTS, body, format="json"), label)
    assert error["details"] == {"blocks": [label]}
    assert not Deployment.dangerously_unscoped.exists()


@pytest.mark.parametrize(
    "credentials_block",
    ["acme", "git-credentials/acme", "{{ block.git-credentials.acme }}", "ID"],
)
def test_an_existing_credentials_block_is_accepted_in_every_form(world: World, credentials_block: str) -> None:
    block = make_block(world, "git-credentials", "acme", {"token": "t"})
    if credentials_block == "ID":
        credentials_block = str(block.pk)
    body = _body(source={**GIT, "credentials_block": credentials_block})
    response = session(world.alice).post(DEPLOYMENTS, body, format="json")
    assert response.status_code == 201, response.content


def test_a_bare_name_means_the_source_types_credentials(world: World) -> None:
    make_block(world, "secret", "acme", {"value": "x"})  # same name, another type: not a git credential
    body = _body(source={**GIT, "credentials_block": "acme"})
    _refused(session(world.alice).post(DEPLOYMENTS, body, format="json"), "git-credentials/acme")


def test_missing_blocks_in_job_variables_are_named(world: World) -> None:
    make_block(world, "secret", "present", {"value": "x"})
    job_variables = {
        "env": {
            "A": "{{ block.secret.present }}",
            "B": "prefix {{ block.secret.absent }}",
            "C": {"$ref": {"block_type_slug": "json", "name": "config"}},
        }
    }
    error = _refused(
        session(world.alice).post(DEPLOYMENTS, _body(job_variables=job_variables), format="json"),
        "secret/absent",
        "json/config",
    )
    assert error["details"] == {"blocks": ["secret/absent", "json/config"]}
    assert "present" not in error["message"]


def test_another_workspaces_block_does_not_count(world: World) -> None:
    foreign = make_block(world, "git-credentials", "acme", {"token": "t"}, workspace=world.umbrella_prod)
    body = _body(source={**GIT, "credentials_block": str(foreign.pk)})
    _refused(session(world.alice).post(DEPLOYMENTS, body, format="json"), str(foreign.pk))


def test_an_update_to_a_missing_block_is_refused_and_nothing_changes(world: World) -> None:
    block = make_block(world, "git-credentials", "acme", {"token": "t"})
    alice = session(world.alice)
    created = alice.post(DEPLOYMENTS, _body(source={**GIT, "credentials_block": "acme"}), format="json")
    assert created.status_code == 201, created.content
    url = f"{DEPLOYMENTS}{created.json()['id']}/"
    _refused(alice.patch(url, {"source": {**GIT, "credentials_block": "gone"}}, format="json"), "git-credentials/gone")
    _refused(
        alice.patch(url, {"job_variables": {"env": {"X": "{{ block.secret.gone }}"}}}, format="json"), "secret/gone"
    )
    stored = Deployment.dangerously_unscoped.get()
    assert stored.source["credentials_block"] == "acme"
    assert stored.job_variables == {}
    # A block deleted since does not block edits that leave the references alone.
    assert alice.delete(f"{PROD}/blocks/{block.pk}/").status_code == 204
    assert alice.patch(url, {"description": "still editable"}, format="json").status_code == 200


def test_an_unreadable_credentials_reference_is_refused(world: World) -> None:
    body = _body(source={"type": "path", "path": "/srv", "credentials_block": "x"})
    response = session(world.alice).post(DEPLOYMENTS, body, format="json")
    assert response.status_code == 400  # a path source has no credentials_block at all
    url_body = _body(source={"type": "url", "url": "https://x.example/a.zip", "credentials_block": "{{ oops"})
    error = _refused(session(world.alice).post(DEPLOYMENTS, url_body, format="json"), "credentials_block")
    assert error["details"] == {"source.credentials_block": ["not a block reference"]}
