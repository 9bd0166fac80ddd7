"""RELIABILITY 15: background code or a raw query with no tenant in scope → an error, never all rows.

With a row of every tenant-owned model in the database and no tenant context, every way of
reading or writing through a model's default manager raises — plain querysets, counts,
aggregates, raw SQL, bulk updates and deletes, and the related managers the ORM derives from
it — and nothing is changed. A service called from background code without `tenant_scope`
fails the same way. Every model that carries a tenant column is checked, found by introspection,
so a new model with a plain manager fails this test.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.apps import apps
from django.db import models

from controlplane.core.managers import OrganizationScopedManager, WorkspaceScopedManager
from controlplane.core.tenancy import TenantContextMissing, current_tenant
from controlplane.runs.models import FlowRun
from controlplane.runs.services.flow_runs import FlowRunRequest, flow_run_create
from tests.reliability.support import acme_everything
from tests.support.matrix import FACTORIES
from tests.support.tenants import World, actor_for

TENANT_ROOTS = {"Organization", "Workspace"}
# Append-only histories with no tenant column of their own: they are only ever read through their
# run (`run.states`), which is itself fetched through a fail-closed manager.
CHILD_TABLES_WITHOUT_A_TENANT_COLUMN = {"FlowRunState", "TaskRunState"}


def _fail_closed(manager: models.Manager[Any]) -> bool:
    from controlplane.blocks.models import BlockTypeManager

    return isinstance(manager, WorkspaceScopedManager | OrganizationScopedManager | BlockTypeManager)


def _tenant_column(model: type[models.Model]) -> bool:
    return any(
        field.concrete and field.is_relation and field.related_model.__name__ in TENANT_ROOTS  # type: ignore[union-attr]
        for field in model._meta.get_fields()
    )


PRODUCT_MODELS = [m for m in apps.get_models() if m.__module__.startswith("controlplane.")]
TENANT_MODELS = [m for m in PRODUCT_MODELS if _tenant_column(m) and m.__name__ not in TENANT_ROOTS]

QUERIES: dict[str, Callable[[type[Any]], Any]] = {
    "all": lambda m: list(m.objects.all()),
    "count": lambda m: m.objects.count(),
    "exists": lambda m: m.objects.exists(),
    "values": lambda m: list(m.objects.values_list("pk", flat=True)),
    "aggregate": lambda m: m.objects.aggregate(n=models.Count("pk")),
    "raw": lambda m: list(m.objects.raw(f"SELECT * FROM {m._meta.db_table}")),
    "in_bulk": lambda m: m.objects.in_bulk(),
    "update": lambda m: m.objects.filter(pk__isnull=False).update(created_at=models.F("created_at")),
    "delete": lambda m: m.objects.all().delete(),
}


def test_every_model_with_a_tenant_column_fails_closed() -> None:
    plain = [m.__name__ for m in TENANT_MODELS if not _fail_closed(m._default_manager)]
    assert plain == []
    assert len(TENANT_MODELS) >= 30


def test_the_child_tables_without_a_tenant_column_are_the_known_ones() -> None:
    children = {
        m.__name__
        for m in PRODUCT_MODELS
        if not _tenant_column(m)
        and m.__name__ not in TENANT_ROOTS
        and any(f.concrete and f.is_relation and f.related_model in TENANT_MODELS for f in m._meta.get_fields())
    }
    assert children == CHILD_TABLES_WITHOUT_A_TENANT_COLUMN


@pytest.mark.parametrize("query", QUERIES)
def test_no_query_of_any_tenant_model_runs_without_a_tenant(query: str, world: World) -> None:
    acme_everything(world)
    assert current_tenant() is None
    before = {m.__name__: m.dangerously_unscoped.count() for m in TENANT_MODELS}  # type: ignore[attr-defined]
    assert sum(before.values()) > 50  # there are rows to leak
    for model in TENANT_MODELS:
        with pytest.raises(TenantContextMissing):
            QUERIES[query](model)
    assert {m.__name__: m.dangerously_unscoped.count() for m in TENANT_MODELS} == before  # type: ignore[attr-defined]


def test_related_managers_derived_from_the_scoped_ones_fail_closed_too(world: World) -> None:
    objects = [factory(world) for factory in FACTORIES.values()]
    checked = 0
    for obj in objects:
        for relation in obj._meta.related_objects:
            if relation.related_model not in TENANT_MODELS or not relation.one_to_many:
                continue
            accessor = relation.get_accessor_name()
            if accessor is None or accessor.endswith("+"):
                continue
            with pytest.raises(TenantContextMissing):
                list(getattr(obj, accessor).all())
            checked += 1
    assert checked >= 5


def test_a_service_called_from_background_code_without_a_scope_raises(world: World) -> None:
    before = FlowRun.dangerously_unscoped.count()
    with pytest.raises(TenantContextMissing):
        flow_run_create(workspace=world.prod, actor=actor_for(world.alice), request=FlowRunRequest(flow_name="etl"))
    assert FlowRun.dangerously_unscoped.count() == before
