"""Typed run input: the JSON Schema a paused flow waits for, and the value it gets back.

An input type may be a pydantic model (when pydantic is installed; it is never imported
here), a dataclass, a TypedDict, or a plain type such as `str` or `int` (sent as the
`value` field of an object, as Prefect does).
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

from tether._parameters import _coerce, _hints, _is_model, _schema_for
from tether.exceptions import TetherException


class RunInputError(TetherException):
    """The input a run was resumed with does not fit the type it waited for."""


def _is_typeddict(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, dict) and hasattr(kind, "__required_keys__")


def _object_schema(kind: Any, fields: dict[str, Any], required: list[str]) -> dict[str, Any]:
    defs: dict[str, Any] = {}
    properties = {name: {"title": name, **_schema_for(annotation, defs)} for name, annotation in fields.items()}
    schema: dict[str, Any] = {"title": getattr(kind, "__name__", "Input"), "type": "object", "properties": properties}
    if required:
        schema["required"] = required
    if defs:
        schema["definitions"] = defs
    return schema


def input_schema(kind: Any) -> dict[str, Any]:
    """The JSON Schema of `kind`: what the resume endpoint checks the input against."""
    if _is_model(kind):
        schema: dict[str, Any] = kind.model_json_schema()
        return schema
    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        hints = _hints(kind)
        fields = {field.name: hints.get(field.name, Any) for field in dataclasses.fields(kind) if field.init}
        required = [
            field.name
            for field in dataclasses.fields(kind)
            if field.init and field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
        ]
        return _object_schema(kind, fields, required)
    if _is_typeddict(kind):
        hints = typing.get_type_hints(kind)
        return _object_schema(kind, hints, sorted(kind.__required_keys__))
    return _object_schema(kind, {"value": kind}, ["value"])


def parse_input(kind: Any, value: Any) -> Any:
    """Turn the stored JSON input into an instance of `kind` (raises `RunInputError` if it does not fit)."""
    try:
        if _is_model(kind):
            return kind.model_validate(value)
        if not isinstance(value, dict):
            raise RunInputError(f"The run input should be a JSON object, not {type(value).__name__}.")
        if dataclasses.is_dataclass(kind) and isinstance(kind, type):
            hints = _hints(kind)
            names = {field.name for field in dataclasses.fields(kind) if field.init}
            return kind(**{k: _coerce(v, hints.get(k, Any), k) for k, v in value.items() if k in names})
        if _is_typeddict(kind):
            hints = typing.get_type_hints(kind)
            return {k: _coerce(v, hints.get(k, Any), k) for k, v in value.items()}
        if "value" not in value:
            raise RunInputError("The run input has no 'value'.")
        return _coerce(value["value"], kind, "value")
    except RunInputError:
        raise
    except Exception as exc:
        raise RunInputError(f"The run input does not fit {getattr(kind, '__name__', kind)}: {exc}") from exc
