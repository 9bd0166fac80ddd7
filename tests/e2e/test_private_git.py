"""Issue 8, acceptance 4: a deployment whose code is in a private git repository (HTTP basic auth,
served by a local `git http-backend`) is cloned by the real agent with a Git credentials block,
and runs. The credential never reaches a command line, the clone's files, the agent's or the
server's logs; a wrong one ends the run CRASHED with a message that does not contain it. Block
secrets the flow loads through the SDK are redacted from the log lines it ships."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.agent_support import AGENT_DATABASE_URL, FINAL, Server, agent, control_plane
from tests.e2e.git_http import GitServer, make_repository, serving

pytestmark = pytest.mark.e2e

GIT_USER = "deploy-bot"
GIT_PASSWORD = "git-canary-51c0ffee-password"
API_TOKEN = "api-canary-9d2b7e41-token"
ENV_SECRET = "env-canary-3e8f12ab-secret"
WRONG_PASSWORD = "wrong-canary-77aa0c3e-password"

FLOWS = """
import os
from pathlib import Path

from tether import flow, get_run_logger
from tether.blocks import Secret


@flow
def private(out: str) -> str:
    token = Secret.load("api-token").get()
    logger = get_run_logger()
    logger.info("loaded %s from its block", token)
    logger.info("the environment holds %s", os.environ["FROM_BLOCK"])
    print("printed", token)
    Path(out, "ran").write_text("from the private repository")
    Path(out, "env").write_text(os.environ["FROM_BLOCK"] + " " + os.environ["PLAIN"])
    return "ok"
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with control_plane(tmp_path_factory.mktemp("private-git-server"), AGENT_DATABASE_URL + "_private_git") as running:
        yield running


@pytest.fixture(scope="module")
def git(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitServer]:
    root = tmp_path_factory.mktemp("git-root")
    make_repository(root, "private.git", {"flows.py": FLOWS})
    with serving(root, "private.git", username=GIT_USER, password=GIT_PASSWORD) as running:
        yield running


def _block(server: Server, type_slug: str, name: str, data: dict[str, Any]) -> str:
    return str(server.post("blocks/", {"block_type_slug": type_slug, "name": name, "data": data})["id"])


@pytest.fixture(scope="module")
def secrets(server: Server) -> None:
    """The Secret blocks every deployment here references in its env."""
    _block(server, "secret", "api-token", {"value": API_TOKEN})
    _block(server, "secret", "env-only", {"value": ENV_SECRET})


def _deploy(server: Server, git: GitServer, pool: str, credentials_block: str) -> str:
    server.post("work-pools/", {"name": pool})
    body = {
        "flow_name": "private",
        "name": pool,
        "entrypoint": "flows.py:private",
        "source": {"type": "git", "url": git.url, "ref": "main", "credentials_block": credentials_block},
        # Referencing a block lets the run's token reveal it (the flow loads api-token through the
        # SDK); the agent resolves references in env just in time.
        "job_variables": {
            "env": {
                "FROM_BLOCK": "{{ block.secret.env-only }}",
                "API_TOKEN": "{{ block.secret.api-token }}",
                "PLAIN": "plain-value",
            }
        },
        "work_pool_name": pool,
    }
    return str(server.post("deployments/", body)["id"])


def _files_holding(root: Path, secret: bytes) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file() and secret in path.read_bytes()]


@pytest.mark.usefixtures("secrets")
def test_a_private_repository_is_cloned_with_a_git_credentials_block(
    server: Server, git: GitServer, tmp_path: Path
) -> None:
    _block(server, "git-credentials", "private-repo", {"username": GIT_USER, "password": GIT_PASSWORD})
    deployment = _deploy(server, git, "private-pool", "git-credentials/private-repo")
    out = tmp_path / "out"
    out.mkdir()
    with agent(server, "private-pool", tmp_path) as running:
        run_id = server.create_run(deployment, out=str(out))
        finished = server.wait_for(run_id, FINAL, timeout=90)
        agent_log = running.log()
    assert finished["state_type"] == "COMPLETED", (finished, agent_log)
    assert (out / "ran").read_text() == "from the private repository"
    assert (out / "env").read_text() == f"{ENV_SECRET} plain-value"  # resolved just in time by the agent
    assert git.authorized >= 2  # ref discovery and the pack, both with the block's credentials
    assert git.leaked_cmdlines == []  # never in a process's arguments while git ran

    work = tmp_path / "work"
    assert (work / "git").is_dir()
    for secret in (GIT_PASSWORD, API_TOKEN, ENV_SECRET):
        assert _files_holding(work, secret.encode()) == [], secret  # not in the clone's config or anywhere
        assert secret not in agent_log
        assert secret not in server.log_path.read_text(errors="replace")

    messages = [line["message"] for line in server.get(f"flow-runs/{run_id}/logs/", page_size=1000)["results"]]
    assert "loaded *** from its block" in messages, messages  # the SDK-loaded secret, redacted before shipping
    assert "the environment holds ***" in messages, messages  # a block resolved into env, redacted too
    assert not [m for m in messages if any(secret in m for secret in (API_TOKEN, GIT_PASSWORD, ENV_SECRET))]
    assert "printed ***" in agent_log  # the engine's console output, redacted as well


@pytest.mark.usefixtures("secrets")
def test_wrong_credentials_crash_the_run_with_a_clear_message_and_no_secret(
    server: Server, git: GitServer, tmp_path: Path
) -> None:
    _block(server, "git-credentials", "wrong", {"username": GIT_USER, "password": WRONG_PASSWORD})
    deployment = _deploy(server, git, "wrong-pool", "wrong")  # a bare name: a git-credentials block
    refused_before = git.refused
    with agent(server, "wrong-pool", tmp_path) as running:
        run_id = server.create_run(deployment, out=str(tmp_path))
        finished = server.wait_for(run_id, FINAL, timeout=90)
        agent_log = running.log()
    assert finished["state_type"] == "CRASHED", (finished, agent_log)
    message = finished["state"]["message"]
    assert "did not accept the credentials block" in message, message
    assert git.refused > refused_before
    for text in (message, agent_log, server.log_path.read_text(errors="replace")):
        assert WRONG_PASSWORD not in text
    assert _files_holding(tmp_path / "work", WRONG_PASSWORD.encode()) == []
