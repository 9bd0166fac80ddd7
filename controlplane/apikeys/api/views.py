"""Your personal keys in an organisation, and service-account keys (owners and admins)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.request import Request
from rest_framework.response import Response

from controlplane.accounts.reauth import recently_authenticated
from controlplane.apikeys.api.serializers import ApiKeyCreatedSerializer, ApiKeyCreateSerializer, ApiKeySerializer
from controlplane.apikeys.models import ApiKey
from controlplane.apikeys.services import api_key_create, api_key_revoke
from controlplane.core.errors import Forbidden, NotFound
from controlplane.orgs.api.base import OrgViewSet
from controlplane.orgs.models import ServiceAccount
from controlplane.orgs.roles import Scope
from controlplane.orgs.selectors import workspace_in_organization

REAUTH_REQUIRED = (
    "Creating a key needs a recent sign-in: re-authenticate (password or MFA) and try again within 5 minutes."
)


class _KeyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrgViewSet):
    serializer_class = ApiKeySerializer

    def _key_owner(self) -> dict[str, Any]:
        raise NotImplementedError

    @extend_schema(request=ApiKeyCreateSerializer, responses={201: ApiKeyCreatedSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Issue a key. The response is the only time its secret is shown."""
        if self.principal.api_key is not None or not recently_authenticated(request._request):
            raise Forbidden(REAUTH_REQUIRED, details={"reauthentication_required": True})
        data = ApiKeyCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        workspace = None
        if values.get("workspace"):
            workspace = workspace_in_organization(organization=self.access.organization, slug=values["workspace"])
        key, secret = api_key_create(
            actor=self.actor,
            organization=self.access.organization,
            name=values["name"],
            workspace=workspace,
            scopes=values.get("scopes"),
            expires_at=values.get("expires_at"),
            **self._key_owner(),
        )
        return Response(ApiKeyCreatedSerializer(key, context={"secret": secret}).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Revoke a key: it stops working at once."""
        api_key_revoke(actor=self.actor, key=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class PersonalApiKeyViewSet(_KeyViewSet):
    """Your own `tether_pat_…` keys for this organisation."""

    scope_map = {"GET": Scope.ORG_READ, "POST": Scope.ORG_READ, "DELETE": Scope.ORG_READ}

    def safely_get_queryset(self) -> QuerySet[ApiKey]:
        return ApiKey.objects.select_related("workspace").filter(user=self.principal.user)

    def _key_owner(self) -> dict[str, Any]:
        return {"user": self.principal.user}


class ServiceAccountApiKeyViewSet(_KeyViewSet):
    """`tether_sa_…` keys of one service account."""

    scope_map = {
        "GET": Scope.SERVICE_ACCOUNTS_WRITE,
        "POST": Scope.SERVICE_ACCOUNTS_WRITE,
        "DELETE": Scope.SERVICE_ACCOUNTS_WRITE,
    }

    def _service_account(self) -> ServiceAccount:
        account: ServiceAccount | None = ServiceAccount.objects.filter(id=self.kwargs["service_account_id"]).first()
        if account is None:
            raise NotFound()
        return account

    def safely_get_queryset(self) -> QuerySet[ApiKey]:
        return ApiKey.objects.select_related("workspace").filter(service_account=self._service_account())

    def _key_owner(self) -> dict[str, Any]:
        return {"service_account": self._service_account()}
