"""docker-compose.yml has the production shape: every service, health checks, restart policies,
named volumes, secrets from files, no default passwords, pinned images (acceptance 1)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.processes import REPO_ROOT

COMPOSE = REPO_ROOT / "docker-compose.yml"
LONG_RUNNING = ("postgres", "redis", "web", "worker", "beat", "proxy", "agent")
# Anything that looks like a credential given inline instead of through a *_FILE secret.
SECRET_NAMES = re.compile(r"(PASSWORD|SECRET|TOKEN|MASTER_KEYS|API_KEY|DATABASE_URL|REDIS_URL)$")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): str(v) for k, v in env.items()}


def test_every_part_of_the_production_shape_is_there(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {*LONG_RUNNING, "migrate"}
    web = compose["services"]["web"]
    command = " ".join(web["command"])
    assert "controlplane.asgi:application" in command
    assert re.search(r"--workers=\$\{TETHER_WEB_WORKERS:-[2-9]\d*\}", command), "several ASGI workers"
    assert "controlplane.celery:app worker" in " ".join(compose["services"]["worker"]["command"])
    assert "controlplane.celery:app beat" in " ".join(compose["services"]["beat"]["command"])
    assert compose["services"]["migrate"]["command"][:3] == ["python", "manage.py", "migrate"]
    assert compose["services"]["migrate"]["restart"] == "no"
    assert compose["services"]["agent"]["command"][0] == "start"


def test_the_order_of_start_waits_for_health_and_migrations(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["migrate"] == {"condition": "service_completed_successfully"}, name
        assert depends["redis"] == {"condition": "service_healthy"}, name
    assert services["migrate"]["depends_on"]["postgres"] == {"condition": "service_healthy"}
    assert services["proxy"]["depends_on"]["web"] == {"condition": "service_healthy"}


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_long_running_services_have_a_health_check_and_a_restart_policy(compose: dict[str, Any], name: str) -> None:
    service = compose["services"][name]
    check = service["healthcheck"]
    assert check["test"][0] in ("CMD", "CMD-SHELL"), name
    assert check.get("interval"), name
    assert check.get("retries"), name
    assert service["restart"] in ("unless-stopped", "always"), name


def test_images_are_pinned_never_latest(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        image = service.get("image")
        assert image, f"{name} names no image"
        repository, _, tag = image.rpartition(":")
        assert repository, f"{name}: {image!r} has no tag"
        assert tag not in ("", "latest"), f"{name}: {image!r}"
        if "build" not in service:
            assert re.fullmatch(r"\d+(\.\d+)+(-[a-z0-9.]+)?", tag), f"{name}: {image!r} is not a pinned version"


def test_no_password_or_key_is_written_in_the_file(compose: dict[str, Any]) -> None:
    text = COMPOSE.read_text()
    assert not re.search(r"(?i)password\s*[:=]\s*[^\s$/{]", text.replace("PASSWORD_FILE", "")), "inline password"
    for name, service in compose["services"].items():
        for key, value in _environment(service).items():
            if SECRET_NAMES.search(key):
                pytest.fail(f"{name}: {key} is set inline ({'empty' if not value else 'a value'}); use {key}_FILE")
    declared = compose["secrets"]
    for secret in declared.values():
        assert set(secret) == {"file"}
        assert secret["file"].startswith("./secrets/")


def test_the_control_plane_reads_its_secrets_from_files(compose: dict[str, Any]) -> None:
    web = compose["services"]["web"]
    env = _environment(web)
    for name in ("DATABASE_URL", "REDIS_URL", "TETHER_SECRET_KEY", "TETHER_MASTER_KEYS"):
        assert env[f"{name}_FILE"].startswith("/run/secrets/"), name
        assert Path(env[f"{name}_FILE"]).name in web["secrets"]
    assert env["DJANGO_SETTINGS_MODULE"] == "controlplane.settings.prod"
    postgres = compose["services"]["postgres"]
    assert _environment(postgres)["POSTGRES_PASSWORD_FILE"] == "/run/secrets/postgres_password"
    assert "requirepass" in " ".join(compose["services"]["redis"]["command"])
    assert compose["services"]["agent"]["env_file"] == [".env.agent"]


def test_state_lives_in_named_volumes(compose: dict[str, Any]) -> None:
    services = compose["services"]
    mounts = {
        name: [v.split(":")[0] for v in services[name].get("volumes", [])]
        for name in ("postgres", "redis", "proxy", "agent")
    }
    assert "pgdata" in mounts["postgres"]
    assert "redisdata" in mounts["redis"]
    assert {"caddydata", "caddyconfig"} <= set(mounts["proxy"])
    assert "agentwork" in mounts["agent"]
    assert {"pgdata", "redisdata", "caddydata", "caddyconfig", "agentwork"} <= set(compose["volumes"])


def test_only_the_tls_proxy_publishes_ports(compose: dict[str, Any]) -> None:
    published = {name: service["ports"] for name, service in compose["services"].items() if service.get("ports")}
    assert set(published) == {"proxy"}
    assert "443:443" in published["proxy"]


def test_the_tls_proxy_passes_websockets_and_hides_metrics() -> None:
    caddyfile = (REPO_ROOT / "infra" / "caddy" / "Caddyfile").read_text()
    assert "reverse_proxy web:8000" in caddyfile
    assert "{$TETHER_DOMAIN}" in caddyfile
    # Caddy's reverse_proxy upgrades WebSockets by itself; a short read timeout would cut long-polls.
    assert re.search(r"read_timeout\s+(\d+)s", caddyfile)
    assert int(re.search(r"read_timeout\s+(\d+)s", caddyfile).group(1)) >= 60  # type: ignore[union-attr]
    assert "@metrics path /metrics" in caddyfile


@pytest.mark.parametrize("name", ["web", "worker", "beat", "migrate", "agent"])
def test_our_containers_drop_privileges(compose: dict[str, Any], name: str) -> None:
    service = compose["services"][name]
    assert service["read_only"] is True
    assert service["cap_drop"] == ["ALL"]
    assert "no-new-privileges:true" in service["security_opt"]
