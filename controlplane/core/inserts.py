"""Rows of several tables written by one INSERT statement: one round trip, atomic by itself.

A flow run's creation writes the run, its first state and its event. Three `save()`s inside a
transaction are five round trips (with BEGIN and COMMIT) and three compilations of an INSERT,
on the busiest write path there is. Here each row travels as one JSON document that
PostgreSQL turns into a record of the table's own type (`jsonb_populate_record`), and the
rows are chained as data-modifying CTEs. One parameter per row keeps the statement short and
its parameters few, so psycopg parses the SQL once and reuses it (it re-parses statements of
more than 50 parameters on every call). Values get the same `pre_save` as `save()` gives them
(timestamps), then their JSON form; PostgreSQL's foreign keys from Django are deferred, so a
row may point at one inserted by the same statement. Auto-increment ids are left to the
database and not read back.
"""

from __future__ import annotations

import datetime
import decimal
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction


@dataclass(frozen=True)
class Row:
    instance: models.Model
    # ON CONFLICT DO NOTHING: a row a unique constraint already holds is skipped (events re-sent).
    skip_conflicts: bool = False


@dataclass(frozen=True)
class _Table:
    fields: tuple[models.Field[Any, Any], ...]
    from_json: str  # INSERT ... SELECT from one JSON parameter (PostgreSQL)
    from_values: str  # INSERT ... VALUES (%s, ...) (SQLite, the embedded mode)


@cache
def _table(model: type[models.Model]) -> _Table:
    fields = tuple(
        field
        for field in model._meta.concrete_fields
        if not (field.primary_key and isinstance(field, models.AutoField | models.BigAutoField))
    )
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    # Names come from the model's own metadata and values are parameters: nothing from a request is spliced in.
    return _Table(
        fields=fields,
        from_json=f"INSERT INTO {table} ({columns}) SELECT {columns} FROM jsonb_populate_record(NULL::{table}, %s)",  # noqa: S608
        from_values=f"INSERT INTO {table} ({columns}) VALUES ({placeholders})",  # noqa: S608
    )


def _json_value(field: models.Field[Any, Any], value: Any) -> Any:
    if value is None or isinstance(field, models.JSONField):
        return value  # a JSON column takes the document itself
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID | decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.timedelta):
        return f"{value.total_seconds()} seconds"
    return value


def _statement(row: Row) -> tuple[str, list[Any]]:
    instance = row.instance
    check = getattr(instance, "check_tenant", None)
    if check is not None:
        check()
    table = _table(type(instance))
    values = [field.pre_save(instance, True) for field in table.fields]
    if connection.vendor == "postgresql":
        document = {field.column: _json_value(field, value) for field, value in zip(table.fields, values, strict=True)}
        sql, params = table.from_json, [json.dumps(document, cls=DjangoJSONEncoder)]
    else:
        prepared = [
            field.get_db_prep_save(value, connection) for field, value in zip(table.fields, values, strict=True)
        ]
        sql, params = table.from_values, prepared
    if row.skip_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    return sql, params


def insert_rows(rows: Sequence[Row]) -> None:
    """INSERT every row in one statement, in order; the instances count as saved afterwards."""
    statements = [_statement(row) for row in rows]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            *leading, (sql, params) = statements
            if leading:
                ctes = ", ".join(f"row_{index} AS ({statement})" for index, (statement, _) in enumerate(leading))
                sql = f"WITH {ctes} {sql}"
                params = [param for _, statement_params in leading for param in statement_params] + params
            cursor.execute(sql, params)
        else:  # SQLite has no INSERT inside WITH: one statement per row
            with transaction.atomic():
                for statement, statement_params in statements:
                    cursor.execute(statement, statement_params)
    for row in rows:
        row.instance._state.adding = False
        row.instance._state.db = connection.alias
