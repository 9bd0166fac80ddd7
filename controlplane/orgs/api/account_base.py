"""Base for endpoints about the signed-in user rather than a tenant (/api/v1/me/, /api/v1/orgs/)."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import NotAuthenticated, PermissionDenied
from rest_framework.request import Request
from rest_framework.views import APIView

from controlplane.accounts.models import User
from controlplane.orgs.principals import Actor, actor_from_request, principal_from_request


class UserAPIView(APIView):
    """Signed-in users only (session or personal key); service-account keys are refused with 403."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        principal = principal_from_request(request)
        if principal is None:
            raise NotAuthenticated()
        if principal.user is None:
            raise PermissionDenied("This endpoint is for users; service accounts act inside workspaces.")

    @property
    def user(self) -> User:
        principal = principal_from_request(self.request)
        if principal is None or principal.user is None:
            raise NotAuthenticated()
        return principal.user

    @property
    def actor(self) -> Actor:
        return actor_from_request(self.request)
