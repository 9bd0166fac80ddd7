"""Fail-closed managers and the sealed tenant views (RELIABILITY 15)."""

from __future__ import annotations

import pytest
from django.db.models import QuerySet

from controlplane.core.tenancy import TenantContextMissing, current_tenant, tenant_scope
from controlplane.flows.models import Variable
from controlplane.orgs.api.base import WorkspaceViewSet
from controlplane.orgs.models import OrgMembership, ServiceAccount
from tests.support.tenants import World


def test_workspace_rows_without_a_tenant_raise(world: World) -> None:
    Variable.dangerously_unscoped.create(workspace=world.prod, name="a", value=1)
    with pytest.raises(TenantContextMissing):
        list(Variable.objects.all())
    with pytest.raises(TenantContextMissing):
        Variable.objects.count()


def test_org_rows_without_a_tenant_raise(world: World) -> None:
    with pytest.raises(TenantContextMissing):
        list(OrgMembership.objects.all())
    with pytest.raises(TenantContextMissing):
        ServiceAccount.objects.filter(name="x").exists()


def test_scope_sees_only_its_own_workspace(world: World) -> None:
    Variable.dangerously_unscoped.create(workspace=world.prod, name="mine", value=1)
    Variable.dangerously_unscoped.create(workspace=world.staging, name="other-ws", value=2)
    Variable.dangerously_unscoped.create(workspace=world.umbrella_prod, name="other-org", value=3)
    with tenant_scope(organization_id=world.acme.id, workspace_id=world.prod.id):
        assert [v.name for v in Variable.objects.all()] == ["mine"]
        assert Variable.objects.filter(name="other-org").count() == 0
    assert current_tenant() is None


def test_saving_into_another_workspace_than_the_scope_is_refused(world: World) -> None:
    with tenant_scope(organization_id=world.acme.id, workspace_id=world.prod.id), pytest.raises(TenantContextMissing):
        Variable(workspace=world.umbrella_prod, name="sneaky", value=1).save()
    assert not Variable.dangerously_unscoped.filter(name="sneaky").exists()


def test_scope_is_cleared_after_an_exception(world: World) -> None:
    with pytest.raises(RuntimeError), tenant_scope(organization_id=world.acme.id, workspace_id=world.prod.id):
        raise RuntimeError
    assert current_tenant() is None


@pytest.mark.parametrize("method", ["get_queryset", "get_object", "get_permissions", "initial", "dispatch"])
def test_tenant_views_cannot_override_the_sealed_methods(method: str) -> None:
    def sneaky(self: object) -> QuerySet[Variable]:
        return Variable.dangerously_unscoped.all()

    with pytest.raises(TypeError, match="safely_get_queryset"):
        type("SneakyViewSet", (WorkspaceViewSet,), {method: sneaky, "__module__": "somewhere.else"})
