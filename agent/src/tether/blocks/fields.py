"""Field types of blocks: secret values, and the JSON Schema a Python annotation stands for."""

from __future__ import annotations

import types
import typing
from typing import Any, Literal, Union

MASK = "********"


class SecretStr:
    """A string that never shows itself: `repr`/`str` print the mask; `get_secret_value()` returns it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"SecretStr holds a string, not {type(value).__name__}.")
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"SecretStr({MASK!r})"

    def __str__(self) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretStr) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


class SecretDict:
    """A JSON object (say, headers holding tokens) that never shows itself, like `SecretStr`."""

    __slots__ = ("_value",)

    def __init__(self, value: dict[str, Any]) -> None:
        if not isinstance(value, dict):
            raise TypeError(f"SecretDict holds a dict, not {type(value).__name__}.")
        self._value = dict(value)

    def get_secret_value(self) -> dict[str, Any]:
        return dict(self._value)

    def __repr__(self) -> str:
        return f"SecretDict({MASK!r})"

    def __str__(self) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretDict) and other._value == self._value

    __hash__ = None  # type: ignore[assignment]  # mutable contents, like dict


_SCALARS: dict[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}


def optional_inner(annotation: Any) -> tuple[Any, bool]:
    """`(X, True)` for `X | None` / `Optional[X]`, else `(annotation, False)`."""
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType):
        args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(args) == 1 and len(args) < len(typing.get_args(annotation)):
            return args[0], True
    return annotation, False


def json_schema(annotation: Any, *, where: str) -> dict[str, Any]:
    """The JSON Schema of a field annotation; secret types carry `"x-secret": true`."""
    annotation, _ = optional_inner(annotation)
    if typing.get_origin(annotation) is typing.Annotated:
        return json_schema(typing.get_args(annotation)[0], where=where)
    if annotation is SecretStr:
        return {"type": "string", "x-secret": True, "format": "password"}
    if annotation is SecretDict:
        return {"type": "object", "x-secret": True}
    if annotation in _SCALARS:
        return {"type": _SCALARS[annotation]}
    if annotation in (Any, object):
        return {}
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Literal:
        return {"enum": list(args)}
    if annotation is list or origin in (list, tuple, set, frozenset):
        items = json_schema(args[0], where=where) if args else {}
        return {"type": "array", "items": items} if items else {"type": "array"}
    if annotation is dict or origin is dict:
        if args and args[0] is not str:
            raise TypeError(f"{where}: JSON objects have string keys; use dict[str, ...].")
        values = json_schema(args[1], where=where) if args else {}
        return {"type": "object", "additionalProperties": values} if values else {"type": "object"}
    raise TypeError(
        f"{where}: {annotation!r} is not a field type blocks support "
        "(str, int, float, bool, list, dict[str, ...], Literal, Any, SecretStr, SecretDict, or X | None)."
    )


def is_secret_annotation(annotation: Any) -> bool:
    inner, _ = optional_inner(annotation)
    if typing.get_origin(inner) is typing.Annotated:
        inner = typing.get_args(inner)[0]
    return inner in (SecretStr, SecretDict)


def to_field_value(annotation: Any, value: Any) -> Any:
    """A value as the instance holds it: plain strings/dicts wrapped for secret fields."""
    inner, _ = optional_inner(annotation)
    if typing.get_origin(inner) is typing.Annotated:
        inner = typing.get_args(inner)[0]
    if value is None or isinstance(value, SecretStr | SecretDict):
        return value
    if inner is SecretStr:
        return SecretStr(value)
    if inner is SecretDict:
        return SecretDict(value)
    return value


def to_json_value(value: Any) -> Any:
    if isinstance(value, SecretStr | SecretDict):
        return value.get_secret_value()
    return value
