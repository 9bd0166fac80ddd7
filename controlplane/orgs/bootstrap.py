"""Provisioning without a browser: a user, an organisation, a workspace and two keys.

Idempotent. Key secrets cannot be read back from the database (only hashes are kept), so
the secrets this issues are cached in a 0600 file under TETHER_VAR_DIR; a re-run prints
the same keys while they are still active, and issues new ones otherwise.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction

from controlplane.accounts.models import User
from controlplane.accounts.services import user_create
from controlplane.apikeys.models import ApiKey
from controlplane.apikeys.services import api_key_create
from controlplane.apikeys.tokens import matches, parse_key
from controlplane.orgs.models import Organization, OrgMembership, ServiceAccount, Workspace, WorkspaceMembership
from controlplane.orgs.principals import Actor, Principal
from controlplane.orgs.roles import OrgRole, WorkspaceRole
from controlplane.orgs.services.organizations import organization_create, workspace_create
from controlplane.orgs.services.service_accounts import service_account_create

KEY_NAME = "bootstrap"


@dataclass(frozen=True)
class BootstrapResult:
    api_url: str
    org: str
    workspace: str
    user: str
    api_key: str
    agent_key: str


def _cache_path(org: str, workspace: str) -> Path:
    # Keyed by database too: one var/ directory may serve several databases (tests, benchmarks).
    database = hashlib.sha256(str(settings.DATABASES["default"]["NAME"]).encode()).hexdigest()[:12]
    return settings.VAR_DIR / "bootstrap" / f"{org}.{workspace}.{database}.json"


def _cached_keys(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    return {name: value for name, value in data.items() if isinstance(value, str)}


def _write_cache(path: Path, keys: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(keys, handle)


def _still_active(secret: str | None, account: ServiceAccount) -> bool:
    parsed = parse_key(secret or "")
    if parsed is None or secret is None:
        return False
    key = ApiKey.dangerously_unscoped.filter(prefix=parsed.lookup_prefix, service_account=account).first()
    return key is not None and key.is_usable() and matches(secret, key.secret_hash)


def _user(email: str, password: str) -> User:
    user = User.objects.filter(email=email.lower()).first()
    if user is None:
        return user_create(email=email, password=password, verified=True)
    if not user.check_password(password):
        user.set_password(password)
        user.save(update_fields=["password"])
    return user


def _service_account(actor: Actor, organization: Organization, workspace: Workspace, role: str) -> ServiceAccount:
    name = f"{workspace.slug}-{'agent' if role == WorkspaceRole.WORKER else role}"
    account = ServiceAccount.dangerously_unscoped.filter(organization=organization, name=name).first()
    if account is None:
        account = service_account_create(
            actor=actor, organization=organization, name=name, description=f"Created by bootstrap ({role} role)"
        )
    WorkspaceMembership.dangerously_unscoped.update_or_create(
        workspace=workspace, service_account=account, defaults={"role": role}
    )
    return account


@transaction.atomic
def bootstrap(*, org: str, workspace: str, email: str, password: str, public_url: str) -> BootstrapResult:
    user = _user(email, password)
    user_actor = Actor(principal=Principal(kind="user", user=user))
    organization = Organization.objects.filter(slug=org).first() or organization_create(
        actor=user_actor, slug=org, name=org
    )
    OrgMembership.dangerously_unscoped.update_or_create(
        organization=organization, user=user, defaults={"role": OrgRole.OWNER}
    )
    ws = Workspace.objects.filter(organization=organization, slug=workspace).first() or workspace_create(
        actor=user_actor, organization=organization, slug=workspace, name=workspace
    )
    cache_path = _cache_path(org, workspace)
    cached = _cached_keys(cache_path)
    keys: dict[str, str] = {}
    for field, role in (("api_key", WorkspaceRole.DEVELOPER), ("agent_key", WorkspaceRole.WORKER)):
        account = _service_account(user_actor, organization, ws, role)
        secret = cached.get(field)
        if not _still_active(secret, account):
            _, secret = api_key_create(
                actor=user_actor, organization=organization, name=KEY_NAME, service_account=account, workspace=ws
            )
        assert secret is not None
        keys[field] = secret
    transaction.on_commit(lambda: _write_cache(cache_path, keys))
    return BootstrapResult(
        api_url=f"{public_url.rstrip('/')}/api/v1/orgs/{org}/workspaces/{workspace}",
        org=org,
        workspace=workspace,
        user=user.email,
        api_key=keys["api_key"],
        agent_key=keys["agent_key"],
    )


def as_json(result: BootstrapResult) -> str:
    return json.dumps(asdict(result))
