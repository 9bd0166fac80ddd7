"""The tenant context: which organisation and workspace the current code acts for.

Set once per request by the tenant base views (and explicitly by background code with
`tenant_scope`); read by the fail-closed managers. Ids, not model instances, so the value
is safe to carry across threads and async boundaries.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass


class TenantContextMissing(RuntimeError):
    """Tenant-owned rows were queried with no tenant in scope: a bug, never "all rows"."""


@dataclass(frozen=True)
class TenantContext:
    organization_id: uuid.UUID
    workspace_id: uuid.UUID | None = None


_current: ContextVar[TenantContext | None] = ContextVar("tether_tenant", default=None)


def current_tenant() -> TenantContext | None:
    return _current.get()


def current_organization_id() -> uuid.UUID:
    context = _current.get()
    if context is None:
        raise TenantContextMissing("no organisation in scope; enter tenant_scope() first")
    return context.organization_id


def current_workspace_id() -> uuid.UUID:
    context = _current.get()
    if context is None or context.workspace_id is None:
        raise TenantContextMissing("no workspace in scope; enter tenant_scope(workspace_id=...) first")
    return context.workspace_id


def enter_tenant(context: TenantContext) -> Token[TenantContext | None]:
    return _current.set(context)


def leave_tenant(token: Token[TenantContext | None]) -> None:
    _current.reset(token)


@contextmanager
def tenant_scope(*, organization_id: uuid.UUID, workspace_id: uuid.UUID | None = None) -> Iterator[TenantContext]:
    """Run a block as one tenant (background code, management commands, tests)."""
    context = TenantContext(organization_id=organization_id, workspace_id=workspace_id)
    token = enter_tenant(context)
    try:
        yield context
    finally:
        leave_tenant(token)
