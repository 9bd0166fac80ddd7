"""Insert many rows with PostgreSQL's COPY: for the few paths that write thousands at once.

Rows are plain dicts of attribute names to values; missing fields take their model default.
No model instances are built and no signals run: callers are services that own the rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import connection, models
from django.utils import timezone
from psycopg.types.json import Jsonb

_NOW = object()


def _defaults(model: type[models.Model]) -> list[tuple[str, str, bool, Any]]:
    """(attname, column, is JSON, default) per column; timestamps stamped with one `now`."""
    columns = []
    for field in model._meta.concrete_fields:
        if isinstance(field, models.AutoField | models.BigAutoField):
            continue  # the database's sequence numbers it
        stamped = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        default = _NOW if stamped else field.get_default()
        columns.append((field.attname, field.column, isinstance(field, models.JSONField), default))
    return columns


def copy_insert(model: type[models.Model], rows: Iterable[Mapping[str, Any]]) -> int:
    """COPY `rows` into `model`'s table; returns how many. Falls back to bulk_create off PostgreSQL."""
    rows = list(rows)
    if not rows:
        return 0
    if connection.vendor != "postgresql":
        model._base_manager.bulk_create([model(**row) for row in rows])
        return len(rows)
    now = timezone.now()
    columns = _defaults(model)
    names = ", ".join(f'"{column}"' for _, column, _, _ in columns)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f'COPY "{model._meta.db_table}" ({names}) FROM STDIN') as copy,
    ):
        for row in rows:
            values = []
            for attname, _, is_json, default in columns:
                value = row.get(attname, default)
                if value is _NOW:
                    value = now
                values.append(Jsonb(value) if is_json and value is not None else value)
            copy.write_row(values)
    return len(rows)
