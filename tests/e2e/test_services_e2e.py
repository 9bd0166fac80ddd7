"""Issue 7, acceptance 5 (no agent): the real server's in-process services schedule runs and mark them Late."""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.processes import free_port, running

pytestmark = pytest.mark.e2e


def _wait_for(check: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"not true within {timeout}s")


def test_scheduled_runs_appear_and_go_late_without_an_agent(tmp_path: Path) -> None:
    port = free_port()
    env = {
        "DJANGO_SETTINGS_MODULE": "controlplane.settings.embedded",
        "TETHER_VAR_DIR": str(tmp_path / "var"),
        "TETHER_LATE_AFTER_SECONDS": "1",
    }
    args = [sys.executable, "manage.py", "up", "--port", str(port)]
    with running(args, env=env, log_path=tmp_path / "up.log", port=port) as server:
        api_url = _wait_for(lambda: re.search(r"Workspace API:  (\S+)", server.log()), 10).group(1)
        key = re.search(r"Developer key:  (\S+)", server.log())
        assert key
        client = httpx.Client(base_url=api_url, headers={"Authorization": f"Bearer {key.group(1)}"}, timeout=10)
        deployment = client.post(
            "/deployments/", json={"flow_name": "etl", "name": "hourly", "entrypoint": "flows/etl.py:etl"}
        )
        assert deployment.status_code == 201, deployment.text
        deployment_id = deployment.json()["id"]

        run = client.post("/flow-runs/", json={"deployment_id": deployment_id}).json()
        late = _wait_for(lambda: client.get(f"/flow-runs/{run['id']}/").json()["state_name"] == "Late", 20)
        assert late
        history = [state["name"] for state in client.get(f"/flow-runs/{run['id']}/states/").json()]
        assert history == ["Scheduled", "Late"]

        schedule = client.post(
            f"/deployments/{deployment_id}/schedules/", json={"kind": "interval", "interval_seconds": 600}
        )
        assert schedule.status_code == 201, schedule.text

        def scheduled_runs() -> list[dict[str, Any]]:
            page = client.get("/flow-runs/", params={"deployment_id": deployment_id, "tag": "auto-scheduled"})
            return list(page.json()["results"])

        runs = _wait_for(lambda: len(scheduled_runs()) >= 6 and scheduled_runs(), 25)
        assert len(runs) == 6  # every 10 minutes for the next hour, and no more on later passes
        time.sleep(11)
        assert len(scheduled_runs()) == 6
