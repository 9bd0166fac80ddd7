"""Flow parameters: the size limit and validation against a deployment's JSON Schema.

Deployments validate their default parameters here, and flow-run creation validates the
merged parameters of a run the same way, so both answer with the same 422s::

    validate_parameters(schema, parameters)              # a run's final parameters
    validate_parameters(schema, defaults, ignore_required=True)  # a deployment's defaults
    validate_parameters(None, parameters)                # enforcement off: size only

Every failure raises `ValidationFailed`; schema mismatches list each failing parameter in
`details["errors"]` as `{"path": "config.items[2]", "message": "..."}`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from jsonschema import Draft202012Validator, SchemaError  # type: ignore[import-untyped]
from referencing import Registry
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012

from controlplane.core.errors import ValidationFailed

PARAMETERS_MAX_BYTES = 512 * 1024
PARAMETER_SCHEMA_MAX_BYTES = 512 * 1024
# Enough to show what is wrong without turning a bad payload into a huge response.
MAX_REPORTED_ERRORS = 50


def serialized_size(value: Any) -> int:
    """Bytes of `value` as compact JSON: the measure every limit here uses."""
    try:
        return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
    except RecursionError:
        raise ValidationFailed("The value is nested too deeply.") from None


def check_parameters_size(parameters: Mapping[str, Any]) -> None:
    """Refuse parameters over 512 KiB serialized (422 naming the limit)."""
    size = serialized_size(parameters)
    if size > PARAMETERS_MAX_BYTES:
        raise ValidationFailed(
            f"Parameters are limited to {PARAMETERS_MAX_BYTES} bytes (512 KiB) of JSON; these are {size} bytes. "
            "Pass large inputs by reference (a path, URL or block name) instead.",
            details={"limit_bytes": PARAMETERS_MAX_BYTES, "size_bytes": size},
        )


def check_parameter_schema(schema: Mapping[str, Any], *, field: str = "parameter_schema") -> None:
    """Refuse anything that is not a valid JSON Schema (draft 2020-12); `field` names it in the error."""
    size = serialized_size(schema)
    if size > PARAMETER_SCHEMA_MAX_BYTES:
        raise ValidationFailed(
            f"{field} is limited to {PARAMETER_SCHEMA_MAX_BYTES} bytes of JSON; this one is {size} bytes.",
            details={"limit_bytes": PARAMETER_SCHEMA_MAX_BYTES, "size_bytes": size},
        )
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        path = _schema_path(error.absolute_path)
        raise ValidationFailed(
            f"{field} is not a valid JSON Schema: at {path}: {_short(error.message)}",
            details={field: [f"{path}: {_short(error.message)}"]},
        ) from None
    except RecursionError:
        raise ValidationFailed(f"{field} is nested too deeply.") from None
    _check_references(schema, field)


def validate_parameters(
    schema: Mapping[str, Any] | None, parameters: Mapping[str, Any], *, ignore_required: bool = False
) -> None:
    """Check `parameters` against the size limit and, when `schema` is non-empty, against it.

    Pass `schema=None` when the deployment does not enforce its schema. `ignore_required`
    is for a deployment's defaults, which may leave required parameters to each run.
    """
    if not isinstance(parameters, Mapping):
        raise ValidationFailed("Parameters must be a JSON object.", details={"parameters": ["Expected an object."]})
    check_parameters_size(parameters)
    if not schema:
        return
    if ignore_required:
        schema = {key: value for key, value in schema.items() if key != "required"}
    errors = _schema_errors(schema, parameters)
    if not errors:
        return
    listed = "; ".join(f"{error['path']}: {error['message']}" for error in errors[:3])
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    raise ValidationFailed(
        f"Parameters do not match the parameter schema: {listed}{more}.",
        details={"errors": errors, "paths": sorted({error["path"] for error in errors})},
    )


def _schema_errors(schema: Mapping[str, Any], parameters: Mapping[str, Any]) -> list[dict[str, str]]:
    validator = Draft202012Validator(schema)
    found: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    try:
        for error in sorted(validator.iter_errors(parameters), key=lambda e: [str(p) for p in e.absolute_path]):
            path = list(error.absolute_path)
            if error.validator == "required":
                # Point at the missing parameter itself, not at the object that lacks it.
                missing = [
                    name for name in error.validator_value if f"{name!r} is a required property" == error.message
                ]
                path = [*path, *missing[:1]]
            entry = (_instance_path(path), error.message)
            if entry not in seen:
                seen.add(entry)
                found.append({"path": entry[0], "message": _short(entry[1])})
            if len(found) >= MAX_REPORTED_ERRORS:
                break
    except Unresolvable as error:
        raise ValidationFailed(
            f"The parameter schema has a reference that cannot be resolved: {getattr(error, 'ref', '?')}.",
            details={"parameter_schema": ["unresolvable $ref"]},
        ) from None
    except RecursionError:
        raise ValidationFailed("Parameters or their schema are nested too deeply.") from None
    return found


def _check_references(schema: Mapping[str, Any], field: str) -> None:
    """Only references inside the schema itself: the server never fetches a remote one."""
    resolver = Registry().with_resource("", DRAFT202012.create_resource(schema)).resolver()
    for ref in _references(schema):
        shown = _short(ref, 100)
        if not ref.startswith("#"):
            raise ValidationFailed(
                f"{field} may only reference its own definitions (like '#/$defs/Name'), not {shown!r}.",
                details={field: [f"remote $ref {shown!r}"]},
            )
        try:
            resolver.lookup(ref)
        except Unresolvable:
            raise ValidationFailed(
                f"{field} references {shown!r}, which it does not define.",
                details={field: [f"unresolvable $ref {shown!r}"]},
            ) from None


def _references(node: Any) -> Iterator[str]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _references(value)
    elif isinstance(node, list):
        for item in node:
            yield from _references(item)


def _instance_path(path: list[Any]) -> str:
    """`["config", "items", 2]` → `config.items[2]`; the whole object is `$`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "$"


def _schema_path(path: Any) -> str:
    return "$" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path)


def _short(message: str, limit: int = 300) -> str:
    # jsonschema quotes the offending value; a huge value must not make a huge error.
    return message if len(message) <= limit else message[: limit - 1] + "…"
