"""Small query helpers for the hot paths."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

from django.db import connection, models

from controlplane.core.tenancy import current_workspace_id

M = TypeVar("M", bound=models.Model)


def unique_row(queryset: models.QuerySet[M]) -> M | None:
    """The row of a lookup by a unique key, or None.

    `.first()` orders by the primary key when the query has no ordering: SQL to build and a
    sort to plan for a lookup that can match one row at most. On the paths every request takes
    (key, workspace, deployment) that showed in profiles.
    """
    rows = list(queryset[:1])
    return rows[0] if rows else None


@dataclass(frozen=True)
class _JoinedLookup:
    sql: str
    pk_field: models.Field[Any, Any]
    parent_model: type[models.Model]
    child_attnames: list[str]
    parent_attnames: list[str]
    converters: tuple[tuple[Any, ...], ...]


@cache
def _joined_lookup(model: type[models.Model], parent: str) -> _JoinedLookup:
    link = model._meta.get_field(parent)
    assert isinstance(link, models.ForeignKey)
    parent_model = link.related_model
    assert isinstance(parent_model, type)
    assert issubclass(parent_model, models.Model)
    child_fields = tuple(model._meta.concrete_fields)
    parent_fields = tuple(parent_model._meta.concrete_fields)
    quote = connection.ops.quote_name
    columns = [f"c.{quote(field.column)}" for field in child_fields]
    columns += [f"p.{quote(field.column)}" for field in parent_fields]
    converters = []
    for field, alias in [*((field, "c") for field in child_fields), *((field, "p") for field in parent_fields)]:
        column = field.get_col(alias)
        converters.append((column, (*connection.ops.get_db_converters(column), *column.get_db_converters(connection))))
    sql = (
        f"SELECT {', '.join(columns)} FROM {quote(model._meta.db_table)} c "  # noqa: S608 - names from the models
        f"JOIN {quote(parent_model._meta.db_table)} p ON p.{quote(link.target_field.column)} = c.{quote(link.column)} "
        f"WHERE c.{quote(model._meta.pk.column)} = %s AND c.workspace_id = %s"
    )
    return _JoinedLookup(
        sql,
        model._meta.pk,
        parent_model,
        [field.attname for field in child_fields],
        [field.attname for field in parent_fields],
        tuple(converters),
    )


def workspace_row_with_parent(model: type[M], parent: str, pk: uuid.UUID) -> M | None:
    """`model.objects.select_related(parent).filter(pk=pk)` in the current workspace, or None.

    The same row the ORM would give (every field through its converters, the parent cached on
    it), from SQL built once per model instead of compiled on every call: the deployment a run
    is created from is looked up on the busiest write path.
    """
    lookup = _joined_lookup(model, parent)
    keys = (pk, current_workspace_id())  # both UUIDs, stored as the backend stores them (hex text on SQLite)
    with connection.cursor() as cursor:
        cursor.execute(lookup.sql, [lookup.pk_field.get_db_prep_value(value, connection) for value in keys])
        row = cursor.fetchone()
    if row is None:
        return None
    values = []
    for value, (column, converters) in zip(row, lookup.converters, strict=True):
        for converter in converters:
            value = converter(value, column, connection)
        values.append(value)
    split = len(lookup.child_attnames)
    child = model.from_db(connection.alias, lookup.child_attnames, values[:split])
    parent_row = lookup.parent_model.from_db(connection.alias, lookup.parent_attnames, values[split:])
    setattr(child, parent, parent_row)
    return child
