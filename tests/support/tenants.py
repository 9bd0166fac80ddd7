"""Named tenants for tests: alice owns acme, bob is a viewer there, charlie has his own org."""

from __future__ import annotations

from dataclasses import dataclass, field

from controlplane.accounts.models import User
from controlplane.apikeys.services import api_key_create
from controlplane.orgs.models import Organization, OrgMembership, ServiceAccount, Workspace, WorkspaceMembership
from controlplane.orgs.principals import Actor, Principal
from controlplane.orgs.roles import OrgRole
from controlplane.orgs.services.organizations import organization_create, workspace_create
from controlplane.orgs.services.service_accounts import service_account_create

PASSWORD = "correct-horse-battery-staple"


def make_user(email: str) -> User:
    return User.objects.create_user(email=email, password=PASSWORD)


def actor_for(user: User) -> Actor:
    return Actor(principal=Principal(kind="user", user=user), client_ip="127.0.0.1")


def make_org(owner: User, slug: str, *workspaces: str) -> tuple[Organization, list[Workspace]]:
    actor = actor_for(owner)
    organization = organization_create(actor=actor, slug=slug, name=slug.title())
    return organization, [
        workspace_create(actor=actor, organization=organization, slug=ws, name=ws) for ws in workspaces
    ]


def add_org_member(organization: Organization, user: User, role: str = OrgRole.MEMBER) -> OrgMembership:
    membership: OrgMembership = OrgMembership.dangerously_unscoped.create(
        organization=organization, user=user, role=role
    )
    return membership


def add_workspace_member(
    workspace: Workspace, role: str, *, user: User | None = None, service_account: ServiceAccount | None = None
) -> WorkspaceMembership:
    membership: WorkspaceMembership = WorkspaceMembership.dangerously_unscoped.create(
        workspace=workspace, role=role, user=user, service_account=service_account
    )
    return membership


def service_account_key(
    owner: User, workspace: Workspace, role: str, name: str | None = None
) -> tuple[ServiceAccount, str]:
    """A service account with `role` in `workspace`, and a key for it."""
    organization = workspace.organization
    account = service_account_create(
        actor=actor_for(owner), organization=organization, name=name or f"{workspace.slug}-{role}"
    )
    add_workspace_member(workspace, role, service_account=account)
    _, secret = api_key_create(actor=actor_for(owner), organization=organization, name="test", service_account=account)
    return account, secret


def personal_key(user: User, organization: Organization, **kwargs: object) -> str:
    _, secret = api_key_create(
        actor=actor_for(user),
        organization=organization,
        name="personal",
        user=user,
        **kwargs,  # type: ignore[arg-type]
    )
    return secret


@dataclass
class World:
    alice: User
    bob: User
    charlie: User
    acme: Organization
    prod: Workspace
    staging: Workspace
    umbrella: Organization
    umbrella_prod: Workspace
    keys: dict[str, str] = field(default_factory=dict)


def build_world() -> World:
    alice = make_user("alice@acme.test")
    bob = make_user("bob@acme.test")
    charlie = make_user("charlie@umbrella.test")
    acme, (prod, staging) = make_org(alice, "acme", "prod", "staging")
    add_org_member(acme, bob)
    add_workspace_member(prod, "viewer", user=bob)
    umbrella, (umbrella_prod,) = make_org(charlie, "umbrella", "prod")
    return World(
        alice=alice,
        bob=bob,
        charlie=charlie,
        acme=acme,
        prod=prod,
        staging=staging,
        umbrella=umbrella,
        umbrella_prod=umbrella_prod,
    )
