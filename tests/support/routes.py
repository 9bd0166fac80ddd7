"""Every API route, read from Django's URL resolver (never a hand-written list)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

from controlplane.orgs.api.account_base import UserAPIView
from controlplane.orgs.api.base import _OrgMixin, _TenantMixin, _WorkspaceMixin

_PARAM = re.compile(r"<(?:\w+:)?(\w+)>")
_IGNORED_METHODS = {"options", "head", "trace"}


@dataclass(frozen=True)
class ApiRoute:
    template: str  # "/api/v1/orgs/{org_slug}/workspaces/{ws_slug}/variables/{pk}/"
    view_class: type
    methods: tuple[tuple[str, str | None], ...]  # (HTTP method, viewset action or None)
    params: tuple[str, ...]

    @property
    def id(self) -> str:
        return self.template.removeprefix("/api/v1/")

    @property
    def level(self) -> str:
        if issubclass(self.view_class, _WorkspaceMixin):
            return "workspace"
        if issubclass(self.view_class, _OrgMixin):
            return "org"
        if issubclass(self.view_class, UserAPIView):
            return "user"
        return "public"

    @property
    def is_tenant(self) -> bool:
        return issubclass(self.view_class, _TenantMixin)

    def url(self, **values: Any) -> str:
        return self.template.format(**{name: values[name] for name in self.params})


def _walk(patterns: list[Any], prefix: str) -> list[tuple[str, URLPattern]]:
    found: list[tuple[str, URLPattern]] = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            found.extend(_walk(pattern.url_patterns, route))
        elif isinstance(pattern, URLPattern):
            found.append((route, pattern))
    return found


def _methods(pattern: URLPattern, view_class: type) -> tuple[tuple[str, str | None], ...]:
    actions = getattr(pattern.callback, "actions", None)
    if actions:
        return tuple(sorted((method.upper(), action) for method, action in actions.items()))
    names = [m for m in getattr(view_class, "http_method_names", []) if m not in _IGNORED_METHODS]
    return tuple((method.upper(), None) for method in names if hasattr(view_class, method))


def api_routes() -> list[ApiRoute]:
    routes = []
    for raw, pattern in _walk(get_resolver().url_patterns, "/"):
        if not raw.startswith("/api/v1/"):
            continue
        view_class = getattr(pattern.callback, "cls", None) or getattr(pattern.callback, "view_class", None)
        assert view_class is not None, f"{raw} is not a class-based view"
        template = _PARAM.sub(r"{\1}", raw)
        params = tuple(_PARAM.findall(raw))
        routes.append(
            ApiRoute(template=template, view_class=view_class, methods=_methods(pattern, view_class), params=params)
        )
    return routes
