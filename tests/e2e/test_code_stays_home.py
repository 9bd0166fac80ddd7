"""Issue 6, acceptance 8: code and data stay home.

A flow whose source carries one canary, which reads a second canary from a local file, and
whose (persisted, then returned) result is a third, runs to COMPLETED through a real agent.
Afterwards none of the three appears in a full `pg_dump` of the server's database nor in the
server's own output (logged at DEBUG, so as much as it ever logs). Parameters and log lines
are metadata the user chooses to send: a parameter canary and a logged canary *do* reach the
dump, which proves the dump and the search would have found the others had they leaked.
"""

from __future__ import annotations

import hashlib
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.agent_support import AGENT_DATABASE_URL, FINAL, Server, agent, agent_env, control_plane

pytestmark = pytest.mark.e2e

FLOW_SOURCE = '''
"""Keeps the customer's code at home: __SOURCE_CANARY__ (in a docstring)."""

import hashlib
from pathlib import Path

from tether import flow, get_run_logger, task

# A comment the control plane must never see: __SOURCE_CANARY__
PIPELINE_SECRET = "__SOURCE_CANARY__"


@task(persist_result=True)
def digest(data: str) -> str:
    return hashlib.sha256((PIPELINE_SECRET + data).encode()).hexdigest()


@flow
def keep_home(data_path: str, tag: str) -> str:
    data = Path(data_path).read_text()
    result = digest(data)
    Path(data_path).with_suffix(".result").write_text(result)
    get_run_logger().info("processed %d bytes for %s", len(data), tag)
    return result
'''


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("home-server")
    with control_plane(tmp, AGENT_DATABASE_URL + "_home", TETHER_LOG_LEVEL="DEBUG") as running:
        yield running


def _dump(server: Server) -> bytes:
    """A full dump (schema and data) of the database the server process uses."""
    return subprocess.run(
        ["pg_dump", "--no-owner", server.env["DATABASE_URL"]], check=True, capture_output=True, timeout=120
    ).stdout


def test_source_data_and_results_never_reach_the_server(server: Server, tmp_path: Path) -> None:
    source_canary = f"canary-source-{uuid.uuid4().hex}"
    data_canary = f"canary-data-{uuid.uuid4().hex}"
    parameter_canary = f"canary-parameter-{uuid.uuid4().hex}"
    result = hashlib.sha256((source_canary + data_canary).encode()).hexdigest()

    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "flows.py").write_text(FLOW_SOURCE.replace("__SOURCE_CANARY__", source_canary))
    data_file = tmp_path / "data" / "input.txt"
    data_file.parent.mkdir()
    data_file.write_text(data_canary)
    results_dir = tmp_path / "results"

    deployment = server.deployment("home-pool", flows, entry="keep_home")
    env = agent_env(server, TETHER_RESULTS_DIR=str(results_dir))
    with agent(server, "home-pool", tmp_path, env=env) as running:
        run_id = server.create_run(deployment, data_path=str(data_file), tag=parameter_canary)
        run = server.wait_for(run_id, FINAL, timeout=60)
        agent_log = running.log()
    assert run["state_type"] == "COMPLETED", agent_log

    # The flow really ran at home with all three: its result is on disk here, and persisted here.
    assert data_file.with_suffix(".result").read_text() == result
    assert any(result.encode() in path.read_bytes() for path in results_dir.iterdir())

    dump = _dump(server)
    server_log = server.log_path.read_bytes()
    assert parameter_canary.encode() in dump  # parameters are metadata: the search does find things
    assert f"processed {len(data_canary)} bytes for {parameter_canary}".encode() in dump  # and so are logs
    assert server_log  # DEBUG: the server did write its log
    for canary in (source_canary, data_canary, result):
        assert canary.encode() not in dump, f"{canary} reached the database"
        assert canary.encode() not in server_log, f"{canary} reached the server's log"
