"""Shared set-up for the reliability cases: one of every acme object, and charlie in every role.

charlie owns the umbrella organisation; every object he must never see lives in acme/prod.
Holds no tests itself.
"""

from __future__ import annotations

from typing import Any

from controlplane.orgs.roles import WorkspaceRole
from controlplane.runs.models import FlowRun
from controlplane.runs.services.flow_runs import FlowRunRequest, flow_run_create
from tests.support.clients import bearer, session
from tests.support.matrix import FACTORIES, acme_params
from tests.support.routes import ApiRoute
from tests.support.runs import in_prod
from tests.support.tenants import World, actor_for, service_account_key

SLUGS = ("org_slug", "ws_slug")


def acme_everything(world: World) -> list[str]:
    """Create one acme/prod object of every model the API serves (plus a run booked through its
    service, so acme has states and events too); return every identifier charlie must never see."""
    objects = [factory(world) for factory in FACTORIES.values()]
    with in_prod(world):
        run: FlowRun = flow_run_create(
            workspace=world.prod, actor=actor_for(world.alice), request=FlowRunRequest(flow_name="acme-only-flow")
        ).run
    identifiers = [
        str(world.acme.id),
        str(world.prod.id),
        str(world.alice.id),
        str(world.bob.id),
        "alice@acme.test",
        "bob@acme.test",
        "acme-only-flow",
        str(run.pk),
        *(str(obj.pk) for obj in objects),
    ]
    return [identifier for identifier in identifiers if len(identifier) >= 8]  # small integer ids match anything


def acme_route_values(route: ApiRoute, world: World) -> dict[str, Any]:
    """Real acme ids for the route's parameters, with charlie's own organisation and workspace slugs."""
    return {**acme_params(route, world), "org_slug": world.umbrella.slug, "ws_slug": world.umbrella_prod.slug}


def charlie_clients(world: World) -> dict[str, Any]:
    """charlie's own credentials: a key for each workspace role of umbrella/prod, and his owner session."""
    clients: dict[str, Any] = {"org-owner-session": session(world.charlie)}
    for role in WorkspaceRole.values:
        _, secret = service_account_key(world.charlie, world.umbrella_prod, role, name=f"charlie-{role}")
        clients[role] = bearer(secret)
    return clients


def leaked(text: str, identifiers: list[str]) -> list[str]:
    return [identifier for identifier in identifiers if identifier in text]
