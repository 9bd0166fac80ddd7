"""The demo tenant the embedded mode provisions, so a first visit has something to show:
a user, organisation `demo`, workspace `default`, a `local` process pool, and an example
deployment of a small flow on a schedule, which the local agent `make up` starts runs."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from controlplane.core.tenancy import tenant_scope
from controlplane.flows.models import DeploymentSchedule
from controlplane.flows.schedules.services import schedule_create
from controlplane.flows.services import deployment_upsert
from controlplane.orgs.bootstrap import BootstrapResult, bootstrap
from controlplane.orgs.models import Workspace
from controlplane.orgs.principals import Actor
from controlplane.workpools.models import WorkPool
from controlplane.workpools.services import work_pool_create

DEMO_EMAIL = "demo@tether.local"
DEMO_ORG = "demo"
DEMO_WORKSPACE = "default"
DEMO_POOL = "local"

DEMO_FLOW = '''"""An example flow: `make up` runs it every five minutes on the local agent."""

from tether import flow, get_run_logger, task


@task(retries=1)
def greet(name: str) -> str:
    return f"Hello, {name}!"


@flow(log_prints=True)
def hello(names: list[str] = ["world", "Tether"]) -> list[str]:
    greetings = [greet(name) for name in names]
    for greeting in greetings:
        print(greeting)
    get_run_logger().info("Greeted %d names", len(greetings))
    return greetings
'''


@dataclass(frozen=True)
class DemoCredentials:
    email: str
    password: str
    tenant: BootstrapResult


def _demo_password() -> str:
    """Generated once per var/ directory and kept 0600 beside the data."""
    path = settings.VAR_DIR / "demo_credentials.json"
    if path.exists():
        return str(json.loads(path.read_text(encoding="utf-8"))["password"])
    password = secrets.token_urlsafe(12)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"email": DEMO_EMAIL, "password": password}, handle)
    return password


def _example_deployment(workspace: Workspace) -> None:
    code_dir = Path(settings.VAR_DIR) / "demo_flows"
    code_dir.mkdir(parents=True, exist_ok=True)
    (code_dir / "hello.py").write_text(DEMO_FLOW, encoding="utf-8")
    actor = Actor.system()
    with tenant_scope(organization_id=workspace.organization_id, workspace_id=workspace.id):
        if not WorkPool.objects.filter(name=DEMO_POOL).exists():
            work_pool_create(
                actor=actor, workspace=workspace, name=DEMO_POOL, description="The agent `make up` starts."
            )
        deployment, _ = deployment_upsert(
            actor=actor,
            workspace=workspace,
            flow_name="hello",
            name="every-five-minutes",
            entrypoint="hello.py:hello",
            source={"type": "path", "path": str(code_dir)},
            work_pool_name=DEMO_POOL,
            description="An example: greets a few names every five minutes.",
        )
        if not DeploymentSchedule.objects.filter(deployment=deployment).exists():
            schedule_create(actor=actor, deployment=deployment, kind="cron", cron="*/5 * * * *")


def provision_demo(*, public_url: str) -> DemoCredentials:
    """Idempotent: the demo user, organisation, workspace, keys, pool and example deployment."""
    password = _demo_password()
    tenant = bootstrap(
        org=DEMO_ORG, workspace=DEMO_WORKSPACE, email=DEMO_EMAIL, password=password, public_url=public_url
    )
    _example_deployment(Workspace.objects.get(organization__slug=DEMO_ORG, slug=DEMO_WORKSPACE))
    return DemoCredentials(email=DEMO_EMAIL, password=password, tenant=tenant)
