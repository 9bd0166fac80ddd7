"""A run token reveals only the blocks its run's deployment references; anything else is a 404."""

from __future__ import annotations

from typing import Any

import pytest

from controlplane.blocks.models import BlockDocument
from tests.controlplane.blocks.support import BLOCKS, CANARY, make_block, reveal_url
from tests.controlplane.workpools.test_dispatch_support import claim, due_run, hello, make_fleet
from tests.support.clients import bearer
from tests.support.tenants import World


def _run_token(world: World, **deployment: Any) -> Any:
    fleet = make_fleet(world, **deployment)
    due_run(fleet)
    (claimed,) = claim(fleet, hello(fleet), capacity=1)
    return bearer(claimed["run_token"])


@pytest.fixture
def blocks(world: World) -> dict[str, BlockDocument]:
    return {
        "git": make_block(world, "git-credentials", "acme", {"username": "u", "password": CANARY}),
        "env": make_block(world, "secret", "db-password", {"value": CANARY + "-db"}),
        "by-id": make_block(world, "secret", "api-token", {"value": CANARY + "-api"}),
        "other": make_block(world, "secret", "unrelated", {"value": CANARY + "-other"}),
    }


def test_run_token_reveals_referenced_blocks_only(world: World, blocks: dict[str, BlockDocument]) -> None:
    client = _run_token(
        world,
        source={"url": "https://git.example/acme.git", "credentials_block": "{{ block.git-credentials.acme }}"},
        job_variables={
            "env": {
                "DB_PASSWORD": "{{ block.secret.db-password }}",
                "API_TOKEN": {"$ref": {"block_document_id": str(blocks["by-id"].pk)}},
            }
        },
    )
    git = client.post(reveal_url(blocks["git"]))
    assert git.status_code == 200, git.content
    assert git.json()["data"]["password"] == CANARY
    assert client.post(reveal_url(blocks["env"])).json()["data"] == {"value": CANARY + "-db"}
    assert client.post(reveal_url(blocks["by-id"])).status_code == 200
    refused = client.post(reveal_url(blocks["other"]))
    assert refused.status_code == 404
    assert CANARY not in refused.content.decode()
    # Reads are masked; writes are not a run's business.
    assert CANARY not in client.get(f"{BLOCKS}/").content.decode()
    assert client.patch(f"{BLOCKS}/{blocks['other'].pk}/", {"name": "x"}, format="json").status_code == 403
    created = client.post(f"{BLOCKS}/", {"block_type_slug": "secret", "name": "x", "data": {}}, format="json")
    assert created.status_code == 403


@pytest.mark.parametrize(
    "credentials_block",
    ["git-credentials/acme", "ID", {"$ref": {"block_type_slug": "git-credentials", "name": "acme"}}],
    ids=["slash", "id", "ref"],
)
def test_credentials_block_forms(world: World, blocks: dict[str, BlockDocument], credentials_block: Any) -> None:
    if credentials_block == "ID":
        credentials_block = str(blocks["git"].pk)
    client = _run_token(world, source={"url": "https://git.example/x.git", "credentials_block": credentials_block})
    assert client.post(reveal_url(blocks["git"])).status_code == 200
    assert client.post(reveal_url(blocks["env"])).status_code == 404


def test_run_without_references_reveals_nothing(world: World, blocks: dict[str, BlockDocument]) -> None:
    client = _run_token(world)
    for block in blocks.values():
        assert client.post(reveal_url(block)).status_code == 404
    assert client.post(reveal_url("00000000-0000-0000-0000-000000000000")).status_code == 404


def test_nested_references_of_a_referenced_block_resolve(world: World, blocks: dict[str, BlockDocument]) -> None:
    wrapper = make_block(
        world, "git-credentials", "wrapped", {"token": {"$ref": {"block_type_slug": "secret", "name": "unrelated"}}}
    )
    client = _run_token(world, source={"credentials_block": "git-credentials/wrapped"})
    assert client.post(reveal_url(wrapper)).json()["data"] == {"token": CANARY + "-other"}
    assert client.post(reveal_url(blocks["other"])).status_code == 404  # not directly
