"""The Dockerfiles: multi-stage, pinned bases, non-root users, the frontend built in (acceptance 1)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.processes import REPO_ROOT

DOCKER = REPO_ROOT / "infra" / "docker"


def _instructions(path: Path) -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", path.read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]


@pytest.mark.parametrize("name", ["controlplane.Dockerfile", "agent.Dockerfile"])
def test_images_are_multi_stage_with_pinned_bases(name: str) -> None:
    froms = [arg for op, arg in _instructions(DOCKER / name) if op == "FROM"]
    assert len(froms) >= 2, "multi-stage"
    for base in froms:
        image = base.split()[0]
        tag = image.rpartition(":")[2]
        assert ":" in image, image
        assert tag != "latest", image
        assert re.match(r"\d+\.\d+", tag), f"{image} is not pinned to a version"


@pytest.mark.parametrize("name", ["controlplane.Dockerfile", "agent.Dockerfile"])
def test_images_run_as_a_non_root_user(name: str) -> None:
    users = [arg for op, arg in _instructions(DOCKER / name) if op == "USER"]
    assert users, "no USER"
    final = users[-1].split(":")[0]
    assert final not in ("root", "0")
    last_from = max(i for i, (op, _) in enumerate(_instructions(DOCKER / name)) if op == "FROM")
    user_at = max(i for i, (op, _) in enumerate(_instructions(DOCKER / name)) if op == "USER")
    assert user_at > last_from, "USER must be set in the final stage"


def test_the_control_plane_image_builds_the_frontend_in() -> None:
    steps = _instructions(DOCKER / "controlplane.Dockerfile")
    assert any(op == "RUN" and "npm run build" in arg for op, arg in steps)
    assert any(op == "COPY" and "--from=frontend" in arg and "dist" in arg for op, arg in steps)
    assert any(op == "RUN" and "collectstatic" in arg for op, arg in steps)
    # Build-time placeholders only in RUN: no secret is baked into the image's environment.
    for op, arg in steps:
        if op == "ENV":
            assert not re.search(r"SECRET|MASTER_KEYS|PASSWORD", arg), arg


def test_the_agent_image_has_the_infrastructure_extras_and_no_port() -> None:
    steps = _instructions(DOCKER / "agent.Dockerfile")
    assert any(op == "RUN" and "[docker,kubernetes,ecs,cloud-run]" in arg for op, arg in steps)
    assert not any(op == "EXPOSE" for op, _ in steps), "the agent opens no port"
    assert any(op == "ENTRYPOINT" and "agent" in arg for op, arg in steps)
