"""Parameter schemas derived from signatures, and coercion of JSON parameters before a run."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any, Literal

import pytest
from pydantic import BaseModel

from tether import flow
from tether._parameters import coerce_parameters
from tether.exceptions import ParameterTypeError
from tether.flows import parameter_schema


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Target(BaseModel):
    table: str
    partitions: int = 1


def etl(
    source: str,
    limit: int = 10,
    ratio: float = 0.5,
    dry_run: bool = False,
    tags: list[str] | None = None,
    since: dt.date | None = None,
    mode: Literal["full", "incremental"] = "full",
    color: Color = Color.RED,
    target: Target | None = None,
    options: dict[str, int] | None = None,
) -> None:
    pass


def test_schema_from_hints_and_defaults() -> None:
    schema = parameter_schema(flow(etl))
    assert schema["type"] == "object"
    assert schema["required"] == ["source"]
    props = schema["properties"]
    assert props["source"] == {"title": "source", "position": 0, "type": "string"}
    assert props["limit"] == {"title": "limit", "position": 1, "type": "integer", "default": 10}
    assert props["ratio"]["type"] == "number"
    assert props["dry_run"] == {"title": "dry_run", "position": 3, "type": "boolean", "default": False}
    assert props["tags"]["anyOf"] == [{"type": "array", "items": {"type": "string"}}, {"type": "null"}]
    assert props["since"]["anyOf"][0] == {"type": "string", "format": "date"}
    assert props["mode"]["enum"] == ["full", "incremental"]
    assert props["color"]["enum"] == ["red", "blue"]
    assert props["color"]["default"] == "red"
    assert props["target"]["anyOf"][0] == {"$ref": "#/definitions/Target"}
    assert schema["definitions"]["Target"]["properties"]["partitions"]["default"] == 1
    assert props["options"]["anyOf"][0] == {"type": "object", "additionalProperties": {"type": "integer"}}


def test_schema_is_valid_json_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = parameter_schema(etl)
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate({"source": "s3://x", "target": {"table": "t"}}, schema)


def test_coercion_converts_json_values() -> None:
    coerced = coerce_parameters(
        etl,
        {
            "source": "db",
            "limit": "20",
            "dry_run": "true",
            "since": "2026-01-02",
            "color": "blue",
            "target": {"table": "events"},
            "options": {"a": 1.0},
        },
    )
    assert coerced["limit"] == 20
    assert coerced["dry_run"] is True
    assert coerced["since"] == dt.date(2026, 1, 2)
    assert coerced["color"] is Color.BLUE
    assert coerced["target"] == Target(table="events")
    assert coerced["options"] == {"a": 1}


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({}, "Missing required parameter"),
        ({"source": "x", "nope": 1}, "Unknown parameter"),
        ({"source": "x", "limit": "many"}, "limit"),
        ({"source": "x", "mode": "sideways"}, "mode"),
        ({"source": "x", "target": {"partitions": 2}}, "target"),
    ],
)
def test_coercion_rejects_what_does_not_fit(parameters: dict[str, Any], message: str) -> None:
    with pytest.raises(ParameterTypeError, match=message):
        coerce_parameters(etl, parameters)
