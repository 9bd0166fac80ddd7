"""Small query helpers for the hot paths."""

from __future__ import annotations

from typing import TypeVar

from django.db import models

M = TypeVar("M", bound=models.Model)


def unique_row(queryset: models.QuerySet[M]) -> M | None:
    """The row of a lookup by a unique key, or None.

    `.first()` orders by the primary key when the query has no ordering: SQL to build and a
    sort to plan for a lookup that can match one row at most. On the paths every request takes
    (key, workspace, deployment) that showed in profiles.
    """
    rows = list(queryset[:1])
    return rows[0] if rows else None
