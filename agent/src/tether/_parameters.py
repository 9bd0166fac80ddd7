"""Flow parameters: a JSON Schema from the signature, coercion of JSON values, and JSON encoding."""

from __future__ import annotations

import datetime as dt
import enum
import inspect
import json
import types
import typing
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tether.exceptions import ParameterTypeError

_SIMPLE: dict[Any, dict[str, Any]] = {
    str: {"type": "string"},
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    bytes: {"type": "string"},
    type(None): {"type": "null"},
    dt.datetime: {"type": "string", "format": "date-time"},
    dt.date: {"type": "string", "format": "date"},
    dt.time: {"type": "string", "format": "time"},
    dt.timedelta: {"type": "number"},
    uuid.UUID: {"type": "string", "format": "uuid"},
    Path: {"type": "string", "format": "path"},
}


def _hints(fn: Callable[..., Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(fn, include_extras=False)
    except Exception:  # noqa: BLE001 - unresolvable annotations: fall back to the raw ones
        return dict(getattr(fn, "__annotations__", {}))


def _is_model(annotation: Any) -> bool:
    return (
        isinstance(annotation, type)
        and hasattr(annotation, "model_json_schema")
        and hasattr(annotation, "model_validate")
    )


def _schema_for(annotation: Any, defs: dict[str, Any]) -> dict[str, Any]:
    if annotation is inspect.Parameter.empty or annotation is Any:
        return {}
    if annotation in _SIMPLE:
        return dict(_SIMPLE[annotation])
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return {"anyOf": [_schema_for(arg, defs) for arg in args]}
    if origin is typing.Literal:
        return {"enum": list(args)}
    if origin in (list, set, frozenset, typing.Sequence) or annotation in (list, set, frozenset):
        schema: dict[str, Any] = {"type": "array"}
        if args:
            schema["items"] = _schema_for(args[0], defs)
        return schema
    if origin is tuple or annotation is tuple:
        if args and args[-1] is not Ellipsis:
            return {"type": "array", "prefixItems": [_schema_for(a, defs) for a in args], "minItems": len(args)}
        return {"type": "array", "items": _schema_for(args[0], defs) if args else {}}
    if origin in (dict, typing.Mapping) or annotation is dict:
        schema = {"type": "object"}
        if len(args) == 2:
            schema["additionalProperties"] = _schema_for(args[1], defs)
        return schema
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return {"enum": [member.value for member in annotation], "title": annotation.__name__}
    if _is_model(annotation):
        model_schema: dict[str, Any] = annotation.model_json_schema(ref_template="#/definitions/{model}")
        for name, definition in model_schema.pop("$defs", {}).items():
            defs[name] = definition
        defs[annotation.__name__] = model_schema
        return {"$ref": f"#/definitions/{annotation.__name__}"}
    return {}


def parameter_schema(fn: Callable[..., Any]) -> dict[str, Any]:
    """The JSON Schema of a flow's parameters, from its type hints and defaults."""
    fn = getattr(fn, "fn", fn)
    signature = inspect.signature(fn)
    hints = _hints(fn)
    defs: dict[str, Any] = {}
    properties: dict[str, Any] = {}
    required: list[str] = []
    for position, (name, parameter) in enumerate(signature.parameters.items()):
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        schema = _schema_for(hints.get(name, parameter.annotation), defs)
        schema = {"title": name, "position": position, **schema}
        if parameter.default is inspect.Parameter.empty:
            required.append(name)
        else:
            schema["default"] = jsonable(parameter.default)
        properties[name] = schema
    result: dict[str, Any] = {"title": "Parameters", "type": "object", "properties": properties}
    if required:
        result["required"] = required
    if defs:
        result["definitions"] = defs
    return result


def jsonable(value: Any) -> Any:
    """A JSON-compatible copy of `value` (what the server stores as a run's parameters)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(item) for item in value]
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, uuid.UUID | Path):
        return str(value)
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return repr(value)


def _coerce(value: Any, annotation: Any, path: str) -> Any:
    if annotation is inspect.Parameter.empty or annotation is Any:
        return value
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, path)
            except ParameterTypeError as exc:
                errors.append(str(exc))
        raise ParameterTypeError("; ".join(errors))
    if origin is typing.Literal:
        if value not in args:
            raise ParameterTypeError(f"{path}: {value!r} is not one of {list(args)}.")
        return value
    if origin in (list, set, frozenset) or annotation in (list, set, frozenset):
        if not isinstance(value, list | tuple | set | frozenset):
            raise ParameterTypeError(f"{path}: expected a list, got {type(value).__name__}.")
        items = [_coerce(item, args[0], f"{path}[{i}]") if args else item for i, item in enumerate(value)]
        container = origin or annotation
        return container(items) if container is not list else items
    if origin is tuple or annotation is tuple:
        if not isinstance(value, list | tuple):
            raise ParameterTypeError(f"{path}: expected a list, got {type(value).__name__}.")
        if args and args[-1] is not Ellipsis:
            return tuple(
                _coerce(item, arg, f"{path}[{i}]") for i, (item, arg) in enumerate(zip(value, args, strict=False))
            )
        return tuple(_coerce(item, args[0], f"{path}[{i}]") if args else item for i, item in enumerate(value))
    if origin is dict or annotation is dict:
        if not isinstance(value, dict):
            raise ParameterTypeError(f"{path}: expected an object, got {type(value).__name__}.")
        if len(args) == 2:
            return {key: _coerce(item, args[1], f"{path}.{key}") for key, item in value.items()}
        return value
    if _is_model(annotation):
        try:
            return annotation.model_validate(value)
        except Exception as exc:
            raise ParameterTypeError(f"{path}: {exc}") from exc
    if not isinstance(annotation, type):
        return value
    return _coerce_scalar(value, annotation, path)


def _coerce_scalar(value: Any, annotation: type, path: str) -> Any:
    try:
        if annotation is bool:
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
                return value.lower() in ("true", "1", "yes")
            raise ValueError
        if annotation is int:
            if isinstance(value, bool):
                raise ValueError
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(value)
        if annotation is float:
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if annotation is str:
            if not isinstance(value, str):
                raise ValueError
            return value
        if annotation is dt.datetime:
            return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
        if annotation is dt.date:
            return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)
        if annotation is dt.timedelta:
            return value if isinstance(value, dt.timedelta) else dt.timedelta(seconds=float(value))
        if issubclass(annotation, enum.Enum):
            return annotation(value)
        if annotation is uuid.UUID:
            return uuid.UUID(str(value))
        if annotation is Path:
            return Path(value)
    except (ValueError, TypeError) as exc:
        raise ParameterTypeError(f"{path}: {value!r} is not a valid {annotation.__name__}.") from exc
    return value


def coerce_parameters(fn: Callable[..., Any], parameters: dict[str, Any]) -> dict[str, Any]:
    """Check JSON parameters against the signature and convert them to the annotated types."""
    fn = getattr(fn, "fn", fn)
    signature = inspect.signature(fn)
    hints = _hints(fn)
    accepts_any = any(p.kind == p.VAR_KEYWORD for p in signature.parameters.values())
    unknown = [name for name in parameters if name not in signature.parameters]
    if unknown and not accepts_any:
        raise ParameterTypeError(f"Unknown parameter(s): {', '.join(sorted(unknown))}.")
    missing = [
        name
        for name, p in signature.parameters.items()
        if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and name not in parameters
    ]
    if missing:
        raise ParameterTypeError(f"Missing required parameter(s): {', '.join(missing)}.")
    coerced = {}
    for name, value in parameters.items():
        parameter = signature.parameters.get(name)
        annotation = hints.get(name, parameter.annotation if parameter else inspect.Parameter.empty)
        coerced[name] = _coerce(value, annotation, name)
    return coerced


def encoded_size(parameters: dict[str, Any]) -> int:
    return len(json.dumps(parameters).encode())
