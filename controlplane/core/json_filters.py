"""Filters on JSON arrays that work on PostgreSQL (production) and SQLite (the embedded mode)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from django.db import connection, models

M = TypeVar("M", bound=models.Model)


def having_all_tags(queryset: models.QuerySet[M], field: str, tags: Iterable[str]) -> models.QuerySet[M]:
    """Rows whose JSON array `field` holds every one of `tags`."""
    wanted = list(tags)
    if not wanted:
        return queryset
    if connection.vendor == "postgresql":
        return queryset.filter(**{f"{field}__contains": wanted})
    # SQLite has no JSON containment lookup; its json_each table function answers the same question.
    table = queryset.model._meta.db_table
    model_field = queryset.model._meta.get_field(field)
    assert isinstance(model_field, models.Field)
    # Names come from the model, never from input; the tag is a bound parameter.
    condition = f'EXISTS (SELECT 1 FROM json_each("{table}"."{model_field.column}") WHERE json_each.value = %s)'  # noqa: S608
    for tag in wanted:
        queryset = queryset.extra(where=[condition], params=[tag])  # noqa: S610
    return queryset
