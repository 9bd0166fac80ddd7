"""Who is calling: a user (session or personal key), a service account (its key), or a flow
run's process (its run token, restricted to that run: see controlplane/apikeys/run_tokens.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from django.http import HttpRequest

from controlplane.accounts.models import User

if TYPE_CHECKING:
    from controlplane.apikeys.models import ApiKey, RunToken
    from controlplane.orgs.models import ServiceAccount


@dataclass(frozen=True)
class Principal:
    kind: Literal["user", "service_account", "run", "system"]
    user: User | None = None
    service_account: ServiceAccount | None = None
    api_key: ApiKey | None = None
    run_token: RunToken | None = None

    @property
    def id(self) -> uuid.UUID | None:
        if self.user is not None:
            return self.user.id
        if self.service_account is not None:
            return self.service_account.id
        return None

    @property
    def label(self) -> str:
        if self.user is not None:
            return self.user.email
        if self.service_account is not None:
            return f"service account {self.service_account.name}"
        if self.run_token is not None:
            return f"flow run {self.run_token.flow_run_id}"
        return "system"


SYSTEM = Principal(kind="system")


@dataclass(frozen=True)
class Actor:
    """A principal plus where the request came from: what services record in the audit log."""

    principal: Principal
    client_ip: str | None = None

    @classmethod
    def system(cls) -> Actor:
        return cls(principal=SYSTEM)


def principal_from_request(request: HttpRequest) -> Principal | None:
    from controlplane.apikeys.models import ApiKey, RunToken
    from controlplane.orgs.models import ServiceAccount

    caller = getattr(request, "user", None)
    key = getattr(request, "auth", None)
    if isinstance(key, RunToken):
        return Principal(kind="run", run_token=key)
    api_key = key if isinstance(key, ApiKey) else None
    if isinstance(caller, ServiceAccount):
        return Principal(kind="service_account", service_account=caller, api_key=api_key)
    if isinstance(caller, User) and caller.is_authenticated:
        return Principal(kind="user", user=caller, api_key=api_key)
    return None


def actor_from_request(request: HttpRequest) -> Actor:
    principal = principal_from_request(request)
    if principal is None:
        raise ValueError("actor_from_request needs an authenticated request")
    return Actor(principal=principal, client_ip=request.META.get("REMOTE_ADDR"))
