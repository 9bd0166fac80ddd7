"""The SDK's block API against a real control plane: save, load, overwrite, custom types registered
with `tether block register`, and the redaction of loaded secrets from a run's shipped logs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agent.conftest import SDK_DATABASE_URL, ControlPlane
from tests.bench.harness import manage, production_env
from tests.support.processes import REPO_ROOT
from tether._api import Client
from tether._redaction import forget_secrets
from tether.blocks import (
    Block,
    BlockAlreadyExists,
    BlockError,
    BlockNotFound,
    GitCredentials,
    Secret,
    SecretDict,
    SecretStr,
)
from tether.blocks.registry import load_block_class

CANARY = "sdk-canary-4b1e9f70-secret"

_OWNER_KEY = """
from controlplane.apikeys.services import api_key_create
from controlplane.orgs.bootstrap import _service_account
from controlplane.orgs.models import Organization, Workspace
from controlplane.orgs.principals import Actor, Principal
from controlplane.accounts.models import User
user = User.objects.get(email="sdk@acme.test")
org = Organization.objects.get(slug="acme")
ws = Workspace.objects.get(organization=org, slug="prod")
actor = Actor(principal=Principal(kind="user", user=user))
account = _service_account(actor, org, ws, "owner")
print(api_key_create(actor=actor, organization=org, name="blocks-sdk", service_account=account)[1])
"""


@pytest.fixture(scope="module")
def owner_key(control_plane: ControlPlane) -> str:
    """An owner-role key (owners hold blocks:reveal; the bootstrap's developer key does not)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    url = f"{SDK_DATABASE_URL}_{worker}" if worker else SDK_DATABASE_URL
    return manage("shell", "-c", _OWNER_KEY, env=production_env(url)).strip().splitlines()[-1]


@pytest.fixture
def owner(control_plane: ControlPlane, owner_key: str) -> Iterator[Client]:
    with Client(control_plane.api_url, owner_key) as client:
        yield client


@pytest.fixture
def developer(control_plane: ControlPlane) -> Iterator[Client]:
    with Client(control_plane.api_url, control_plane.api_key) as client:
        yield client


@pytest.fixture(autouse=True)
def _fresh_redaction() -> Iterator[None]:
    forget_secrets()
    yield
    forget_secrets()


def test_save_load_get_and_overwrite(control_plane: ControlPlane, owner: Client, developer: Client) -> None:
    block_id = Secret(value=CANARY).save("db-password", client=developer)
    masked = control_plane.get(f"blocks/{block_id}/")
    assert masked["data"] == {"value": "********"}
    assert Secret.load("db-password", client=owner).get() == CANARY

    with pytest.raises(BlockAlreadyExists):
        Secret(value="other").save("db-password", client=developer)
    assert Secret(value=CANARY + "-2").save("db-password", overwrite=True, client=developer) == block_id
    loaded = Secret.load("db-password", client=owner)
    assert loaded.get() == CANARY + "-2"
    assert CANARY not in repr(loaded)
    assert CANARY not in str(loaded.value)


def test_load_needs_reveal_and_names_missing_blocks(developer: Client, owner: Client) -> None:
    GitCredentials(username="bot", token=CANARY).save("repo", overwrite=True, client=developer)
    with pytest.raises(BlockError, match="blocks:reveal"):
        GitCredentials.load("repo", client=developer)
    creds = GitCredentials.load("repo", client=owner)
    assert creds.username == "bot"
    assert creds.token is not None
    assert creds.token.get_secret_value() == CANARY
    assert creds.password is None
    with pytest.raises(BlockNotFound, match="secret block named 'absent'"):
        Secret.load("absent", client=owner)


def test_environment_configures_the_client(
    control_plane: ControlPlane, owner_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TETHER_API_URL", control_plane.api_url)
    monkeypatch.setenv("TETHER_API_KEY", owner_key)
    Secret(value=CANARY + "-env").save("from-env", overwrite=True)
    assert Secret.load("from-env").get() == CANARY + "-env"
    monkeypatch.delenv("TETHER_API_URL")
    with pytest.raises(BlockError, match="TETHER_API_URL"):
        Secret.load("from-env")


WAREHOUSE_V1 = """
from typing import Literal

from tether.blocks import Block, SecretDict, SecretStr


class Warehouse(Block):
    \"\"\"Where the reports go.\"\"\"

    _icon = "database"
    host: str
    port: int = 5432
    password: SecretStr
    mode: Literal["ro", "rw"] = "ro"
"""

WAREHOUSE_V2 = WAREHOUSE_V1.replace(
    '    mode: Literal["ro", "rw"] = "ro"\n',
    '    mode: Literal["ro", "rw"] = "ro"\n    extra_headers: SecretDict | None = None\n    _version = "2"\n',
)


def _register(tmp_path: Path, control_plane: ControlPlane, *targets: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TETHER_")}
    env.update({"TETHER_API_URL": control_plane.api_url, "TETHER_API_KEY": control_plane.api_key})
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT / "agent" / "src"), env.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "tether", "block", "register", *targets],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_block_register_creates_then_updates_a_custom_type(
    tmp_path: Path, control_plane: ControlPlane, developer: Client, owner: Client
) -> None:
    (tmp_path / "warehouse_blocks.py").write_text(WAREHOUSE_V1)
    first = _register(tmp_path, control_plane, "warehouse_blocks:Warehouse")
    assert first.returncode == 0, first.stderr
    assert "Registered block type 'warehouse' (version 1; secret fields: password)" in first.stdout
    (block_type,) = control_plane.get("block-types/", slug="warehouse")["results"]
    assert block_type["is_standard"] is False
    assert block_type["icon"] == "database"
    assert block_type["description"] == "Where the reports go."
    assert block_type["schema"]["required"] == ["host", "password"]
    assert block_type["schema"]["properties"]["mode"]["enum"] == ["ro", "rw"]

    (tmp_path / "warehouse_v2.py").write_text(WAREHOUSE_V2)
    second = _register(tmp_path, control_plane, "warehouse_v2.py:Warehouse")
    assert second.returncode == 0, second.stderr
    (updated,) = control_plane.get("block-types/", slug="warehouse")["results"]
    assert updated["id"] == block_type["id"]
    assert (updated["version"], updated["secret_fields"]) == ("2", ["extra_headers", "password"])

    warehouse = load_block_class("warehouse_v2.py:Warehouse", root=tmp_path)
    block = warehouse(host="db.internal", password=CANARY, extra_headers={"X-Token": CANARY + "-h"})
    block.save("reports", overwrite=True, client=developer)
    (masked,) = control_plane.get("blocks/", block_type_slug="warehouse", name="reports")["results"]
    assert masked["data"] == {
        "host": "db.internal",
        "port": 5432,
        "password": "********",
        "mode": "ro",
        "extra_headers": "********",
    }
    loaded = warehouse.load("reports", client=owner)
    assert loaded == block
    assert loaded.password.get_secret_value() == CANARY  # type: ignore[attr-defined]


def test_register_refuses_bad_targets_and_standard_types(tmp_path: Path, control_plane: ControlPlane) -> None:
    (tmp_path / "bad_blocks.py").write_text("from tether.blocks import Secret\nNOT_A_BLOCK = 3\n")
    result = _register(tmp_path, control_plane, "bad_blocks:NOT_A_BLOCK", "bad_blocks:Secret", "nowhere:Thing")
    assert result.returncode == 1
    assert "bad_blocks:NOT_A_BLOCK: 'bad_blocks:NOT_A_BLOCK' is not a Block subclass." in result.stderr
    assert "'secret' is a standard block type" in result.stderr
    assert "Importing 'nowhere' failed" in result.stderr


def test_unsupported_field_types_fail_at_class_definition() -> None:
    with pytest.raises(TypeError, match=r"Broken\.when"):

        class Broken(Block):
            when: complex

    class Defaults(Block):
        name: str
        tags: list[str] = []
        token: SecretStr | None = None
        headers: SecretDict | None = None

    assert Defaults(name="x").block_data() == {"name": "x", "tags": []}
    assert Defaults._block_type_slug == "defaults"
    with pytest.raises(TypeError, match="needs 'name'"):
        Defaults()


def test_loaded_secrets_are_redacted_from_the_runs_shipped_logs(
    tracked: ControlPlane, owner_key: str, developer: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tether import flow, get_run_logger

    Secret(value=CANARY + "-log").save("log-canary", overwrite=True, client=developer)
    monkeypatch.setenv("TETHER_API_KEY", owner_key)

    @flow(name="blocks-redaction")
    def uses_a_secret() -> str:
        token = Secret.load("log-canary").get()
        get_run_logger().info("connecting with %s now", token)
        raise ValueError(f"refused token {token}")

    state = uses_a_secret(return_state=True)
    assert state.is_failed()
    run = tracked.latest_run("blocks-redaction")
    messages = [line["message"] for line in tracked.logs(run["id"])]
    assert "connecting with *** now" in messages, messages
    assert not [message for message in messages if CANARY in message]
    assert CANARY not in json.dumps(tracked.get(f"flow-runs/{run['id']}/"))  # nor in the FAILED state's message
    assert "refused token ***" in run["state"]["message"]


# --- without a server: the agent's resolution of job variables, and the redaction registry ---


def test_job_variables_references_resolve_and_name_their_env_variables() -> None:
    from tether.agent.references import BlockReferenceError, resolve_job_variables

    blocks: dict[str, dict[str, object]] = {
        "secret/db": {"value": CANARY},
        "json/limits": {"value": {"cpu": 2}},
        "git-credentials/repo": {"username": "bot", "token": CANARY + "-git"},
        "0b6e6c1e-0000-4000-8000-000000000000": {"value": CANARY + "-by-id"},
    }
    asked: list[str] = []

    def reveal(reference: str) -> dict[str, object]:
        asked.append(reference)
        if reference not in blocks:
            raise BlockNotFound(f"no {reference}")
        return blocks[reference]

    variables = {
        "env": {
            "DB": "{{ block.secret.db }}",
            "URL": "postgres://app:{{ block.secret.db }}@db/app",
            "BY_ID": {"$ref": {"block_document_id": "0b6e6c1e-0000-4000-8000-000000000000"}},
            "PLAIN": True,
        },
        "limits": "{{ block.json.limits }}",
        "git": {"$ref": {"block_type_slug": "git-credentials", "name": "repo"}},
    }
    resolved, secret_env = resolve_job_variables(variables, reveal)
    assert resolved["env"] == {
        "DB": CANARY,
        "URL": f"postgres://app:{CANARY}@db/app",
        "BY_ID": CANARY + "-by-id",
        "PLAIN": True,  # untouched: the infrastructure stringifies env as before
    }
    assert resolved["limits"] == {"cpu": 2}
    assert resolved["git"] == {"username": "bot", "token": CANARY + "-git"}
    assert secret_env == ["DB", "URL", "BY_ID"]
    assert asked.count("secret/db") == 1  # revealed once per run, however often referenced
    assert resolve_job_variables({"env": {"A": "1"}}, reveal) == ({"env": {"A": "1"}}, [])
    with pytest.raises(BlockReferenceError, match="secret/gone"):
        resolve_job_variables({"env": {"X": "{{ block.secret.gone }}"}}, reveal)


def test_redaction_registry() -> None:
    from tether._redaction import redact, redact_any, register_secret

    assert redact(f"token {CANARY}") == f"token {CANARY}"  # nothing registered yet
    register_secret({"token": CANARY, "nested": ["abc", "line-one-secret\nline-two-secret"]})
    assert redact(f"token {CANARY}!") == "token ***!"
    assert redact("abc stays: too short to redact") == "abc stays: too short to redact"
    assert redact("a log split it: line-two-secret") == "a log split it: ***"
    assert redact_any({"message": f"x {CANARY}", "details": [CANARY], "n": 1}) == {
        "message": "x ***",
        "details": ["***"],
        "n": 1,
    }
