"""The tenant base views. Every organisation and workspace endpoint inherits one of them.

They resolve the organisation (and workspace) from the URL, check that the caller belongs
there (404 when not, exactly as for something that does not exist), set the tenant context
for the fail-closed managers, check the scope the request needs, and clear the context when
the request ends. Subclasses may not override `get_queryset`, `get_object`,
`get_permissions`, `initial` or `dispatch`: they narrow rows in `safely_get_queryset` and
declare scopes in `scope_map` (by HTTP method) and `action_scopes` (by viewset action).
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import Token
from typing import Any, ClassVar

from django.db import models
from rest_framework import viewsets
from rest_framework.exceptions import NotAuthenticated, PermissionDenied, Throttled
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from controlplane.core.ratelimit import limits_for, take
from controlplane.core.tenancy import TenantContext, enter_tenant, leave_tenant
from controlplane.orgs.access import OrgAccess, WorkspaceAccess, cached_org_access, cached_workspace_access
from controlplane.orgs.principals import Actor, Principal, actor_from_request, principal_from_request
from controlplane.orgs.roles import Scope

_SEALED = (
    "get_queryset",
    "get_object",
    "get_permissions",
    "initial",
    "dispatch",
    "check_permissions",
    "_confine_run_token",
)


class ScopePermission(BasePermission):
    """Allow a request only when the caller's effective scopes include the one it needs."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        assert isinstance(view, _TenantMixin)
        needed = view.required_scope(request)
        if needed is None:
            return False  # deny by default: an undeclared method or action is refused
        return needed in view.access.scopes


class _TenantMixin:
    """Shared mechanics; use OrgViewSet/WorkspaceViewSet (or the APIView variants)."""

    # Ids in URLs are UUIDs: a typed converter documents them and turns junk into a 404.
    lookup_value_converter = "uuid"
    scope_map: ClassVar[Mapping[str, Scope]] = {}
    action_scopes: ClassVar[Mapping[str, Scope]] = {}

    access: OrgAccess | WorkspaceAccess
    principal: Principal
    _tenant_token: Token[TenantContext | None] | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__module__ == __name__:
            return
        overridden = [name for name in _SEALED if name in cls.__dict__]
        if overridden:
            raise TypeError(
                f"{cls.__qualname__} overrides {', '.join(overridden)}; tenant views narrow rows in "
                "safely_get_queryset() and declare scopes in scope_map/action_scopes instead"
            )

    # --- the hooks subclasses use -------------------------------------------------------
    def safely_get_queryset(self) -> models.QuerySet[Any]:
        raise NotImplementedError(f"{type(self).__qualname__} must implement safely_get_queryset()")

    def required_scope(self, request: Request) -> Scope | None:
        action = getattr(self, "action", None)
        if action and action in self.action_scopes:
            return self.action_scopes[action]
        return self.scope_map.get(request.method or "")

    @property
    def actor(self) -> Actor:
        return actor_from_request(self.request)  # type: ignore[attr-defined]

    # --- sealed mechanics -----------------------------------------------------------------
    def resolve_access(self, kwargs: Mapping[str, Any]) -> OrgAccess | WorkspaceAccess:
        raise NotImplementedError

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        view: Any = self
        view.format_kwarg = view.get_format_suffix(**kwargs)
        request.accepted_renderer, request.accepted_media_type = view.perform_content_negotiation(request)
        request.version, request.versioning_scheme = view.determine_version(request, *args, **kwargs)
        view.perform_authentication(request)
        principal = principal_from_request(request)
        if principal is None:
            raise NotAuthenticated()
        self.principal = principal
        self.access = self.resolve_access(kwargs)
        workspace = getattr(self.access, "workspace", None)
        self._tenant_token = enter_tenant(
            TenantContext(organization_id=self.access.organization.id, workspace_id=workspace.id if workspace else None)
        )
        self._take_rate_limit_token(principal)
        view.check_permissions(request)
        if principal.run_token is not None:
            self._confine_run_token(request, kwargs)
        view.check_throttles(request)

    def _take_rate_limit_token(self, principal: Principal) -> None:
        credential = principal.api_key or principal.run_token or principal.user
        assert credential is not None
        wait = take(limits_for(credential=credential.pk.hex, organization=self.access.organization.id.hex))
        if wait > 0:
            raise Throttled(wait=wait, detail="Too many requests: slow down and retry after the given seconds.")

    def _confine_run_token(self, request: Request, kwargs: Mapping[str, Any]) -> None:
        """A run token writes only about its own run (and its subflows): see apikeys.run_tokens."""
        from controlplane.apikeys.run_tokens import confine_run_token

        assert self.principal.run_token is not None
        method = (request.method or "").upper()
        if method not in {"GET", "HEAD", "OPTIONS"} and not hasattr(self, method.lower()):
            return  # dispatch answers 405
        confine_run_token(
            self.principal.run_token,
            method=method,
            basename=getattr(self, "basename", None),
            action=getattr(self, "action", None),
            data=request.data if method not in {"GET", "HEAD", "OPTIONS"} else None,
            kwargs=kwargs,
        )

    def check_permissions(self, request: Request) -> None:
        view: Any = self
        method = (request.method or "").lower()
        if method not in view.http_method_names or not hasattr(view, method):
            return  # dispatch answers 405; there is nothing to authorise
        for permission in view.get_permissions():
            if not permission.has_permission(request, self):
                needed = self.required_scope(request)
                message = f"This needs the {needed} scope, which your role does not grant." if needed else None
                raise PermissionDenied(message)

    def get_permissions(self) -> list[BasePermission]:
        return [ScopePermission()]

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        try:
            response: Response = super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
            return response
        finally:
            if self._tenant_token is not None:
                leave_tenant(self._tenant_token)
                self._tenant_token = None

    def get_queryset(self) -> models.QuerySet[Any]:
        return self.safely_get_queryset()

    def get_object(self) -> Any:
        return super().get_object()  # type: ignore[misc]


class _OrgMixin(_TenantMixin):
    access: OrgAccess

    def resolve_access(self, kwargs: Mapping[str, Any]) -> OrgAccess:
        return cached_org_access(self.request, self.principal, kwargs["org_slug"])  # type: ignore[attr-defined]


class _WorkspaceMixin(_TenantMixin):
    access: WorkspaceAccess

    def resolve_access(self, kwargs: Mapping[str, Any]) -> WorkspaceAccess:
        return cached_workspace_access(self.request, self.principal, kwargs["org_slug"], kwargs["ws_slug"])  # type: ignore[attr-defined]


class OrgViewSet(_OrgMixin, viewsets.GenericViewSet):  # type: ignore[type-arg]
    """Base for endpoints under /api/v1/orgs/{org_slug}/."""


class WorkspaceViewSet(_WorkspaceMixin, viewsets.GenericViewSet):  # type: ignore[type-arg]
    """Base for endpoints under /api/v1/orgs/{org_slug}/workspaces/{ws_slug}/."""


class OrgAPIView(_OrgMixin, APIView):
    """An organisation endpoint that is not a collection (e.g. transfer ownership)."""


class WorkspaceAPIView(_WorkspaceMixin, APIView):
    """A workspace endpoint that is not a collection."""
