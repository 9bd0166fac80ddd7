"""`manage.py up` (what `make up` runs) serves the real SPA, the schema and readiness, and stops cleanly."""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import httpx
import pytest
from openapi_spec_validator import validate

from tests.support.processes import REPO_ROOT, free_port, running

pytestmark = pytest.mark.e2e

DIST_INDEX = REPO_ROOT / "frontend" / "dist" / "index.html"


def test_embedded_runner_serves_the_product(tmp_path: Path) -> None:
    assert DIST_INDEX.exists(), "the frontend is not built: run `make setup` (make test does it first)"
    port = free_port()
    env = {"DJANGO_SETTINGS_MODULE": "controlplane.settings.embedded", "TETHER_VAR_DIR": str(tmp_path / "var")}
    args = [sys.executable, "manage.py", "up", "--port", str(port)]
    with running(args, env=env, log_path=tmp_path / "up.log", port=port) as server:
        ready = httpx.get(f"{server.url}/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"]["database"] == "ok"

        page = httpx.get(f"{server.url}/")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        scripts = re.findall(r'src="(/static/assets/[^"]+\.js)"', page.text)
        assert scripts, page.text
        bundle = httpx.get(server.url + scripts[0])
        assert bundle.status_code == 200
        assert "javascript" in bundle.headers["content-type"]
        assert len(bundle.content) > 1000  # a real application bundle, not a placeholder

        deep_link = httpx.get(f"{server.url}/runs/some-run-id")
        assert deep_link.status_code == 200
        assert deep_link.text == page.text

        api_url = re.search(r"Workspace API:  (\S+)", server.log())
        key = re.search(r"Developer key:  (tether_sa_\S+)", server.log())
        assert api_url, server.log()
        assert key, server.log()
        access = httpx.get(f"{api_url.group(1)}/access/", headers={"Authorization": f"Bearer {key.group(1)}"})
        assert access.status_code == 200
        assert access.json()["role"] == "developer"

        # The hybrid loop in one machine: the example deployment runs on the local agent.
        client = httpx.Client(base_url=api_url.group(1), headers={"Authorization": f"Bearer {key.group(1)}"})
        (deployment,) = client.get("/deployments/", params={"name": "every-five-minutes"}).json()["results"]
        run = client.post("/flow-runs/", json={"deployment_id": deployment["id"], "parameters": {"names": ["e2e"]}})
        assert run.status_code == 201, run.text
        deadline = time.monotonic() + 90
        state = ""
        while time.monotonic() < deadline and state not in ("COMPLETED", "FAILED", "CRASHED"):
            time.sleep(0.5)
            state = client.get(f"/flow-runs/{run.json()['id']}/").json()["state_type"]
        assert state == "COMPLETED", (tmp_path / "var" / "local-agent.log").read_text()
        logs = client.get(f"/flow-runs/{run.json()['id']}/logs/").json()["results"]
        assert any("Hello, e2e!" in line["message"] for line in logs)

        schema = httpx.get(f"{server.url}/api/schema/?format=json")
        assert schema.status_code == 200
        validate(schema.json())
        process = server.process
    assert process.returncode == 0, server.log()
    log = server.log()
    assert "Demo sign-in:   demo@tether.local / " in log
    assert "Tether stopped." in log
    assert (tmp_path / "var" / "tether.sqlite3").exists()
