"""Block schemas: which properties are secret, masking, validation, and block references.

A property is secret when its schema has `"x-secret": true` (or `"format": "password"`).
Read responses show a secret value as `MASK`; writing `MASK` back keeps the stored value.
A value `{"$ref": {"block_document_id": "<uuid>"}}` or
`{"$ref": {"block_type_slug": "<slug>", "name": "<name>"}}` refers to another block of the
workspace; it passes schema validation wherever it stands and is resolved on reveal.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator, SchemaError, validators  # type: ignore[import-untyped]

MASK = "********"
MAX_SCHEMA_DEPTH = 32


@dataclass(frozen=True)
class BlockRef:
    """A reference to a block document, by id or by type slug and name."""

    document_id: uuid.UUID | None = None
    type_slug: str | None = None
    name: str | None = None

    def label(self) -> str:
        return str(self.document_id) if self.document_id else f"{self.type_slug}/{self.name}"


def is_secret(property_schema: Any) -> bool:
    return isinstance(property_schema, dict) and (
        property_schema.get("x-secret") is True or property_schema.get("format") == "password"
    )


def _properties(schema: Any) -> dict[str, Any]:
    properties = schema.get("properties") if isinstance(schema, dict) else None
    return properties if isinstance(properties, dict) else {}


def secret_fields(schema: dict[str, Any]) -> list[str]:
    """Top-level properties that are secret or hold a secret somewhere inside."""
    return sorted(name for name, prop in _properties(schema).items() if _holds_secret(prop, 0))


def _holds_secret(schema: Any, depth: int) -> bool:
    if depth > MAX_SCHEMA_DEPTH:
        return True
    return is_secret(schema) or any(_holds_secret(prop, depth + 1) for prop in _properties(schema).values())


def as_reference(value: Any) -> BlockRef | None:
    """The reference `value` holds, or None if it is not a `{"$ref": {...}}` object."""
    if not (isinstance(value, dict) and set(value) == {"$ref"} and isinstance(value["$ref"], dict)):
        return None
    target = value["$ref"]
    if "block_document_id" in target:
        try:
            return BlockRef(document_id=uuid.UUID(str(target["block_document_id"])))
        except ValueError:
            return BlockRef(document_id=uuid.UUID(int=0))
    slug, name = target.get("block_type_slug"), target.get("name")
    if isinstance(slug, str) and isinstance(name, str):
        return BlockRef(type_slug=slug, name=name)
    return BlockRef(document_id=uuid.UUID(int=0))  # malformed: resolves to nothing, a clear error


def references_in(value: Any) -> Iterator[BlockRef]:
    ref = as_reference(value)
    if ref is not None:
        yield ref
    elif isinstance(value, dict):
        for item in value.values():
            yield from references_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from references_in(item)


def _masked_property(prop: Any, depth: int) -> bool:
    # Fail closed: a field the schema does not (or no longer) declare is masked like a secret,
    # so dropping a property from a custom type's schema never shows its stored values.
    return prop is None or is_secret(prop) or depth > MAX_SCHEMA_DEPTH


def mask(schema: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """`data` with every secret (or undeclared) value replaced by MASK; references stay visible."""
    return _mask_object(schema, data, 0)


def _mask_object(schema: Any, data: dict[str, Any], depth: int) -> dict[str, Any]:
    properties = _properties(schema)
    masked: dict[str, Any] = {}
    for key, value in data.items():
        prop = properties.get(key)
        if _masked_property(prop, depth):
            masked[key] = None if value is None else MASK
        elif isinstance(value, dict) and _properties(prop) and as_reference(value) is None:
            masked[key] = _mask_object(prop, value, depth + 1)
        else:
            masked[key] = value
    return masked


class MaskWithoutValue(ValueError):
    """The mask was written for a secret field that has no stored value to keep."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(path)


def unmask(schema: dict[str, Any], new: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    """`new` with each MASK at a secret path replaced by the stored value at that path."""
    return _unmask_object(schema, new, old, "", 0)


def _unmask_object(schema: Any, new: dict[str, Any], old: Any, prefix: str, depth: int) -> dict[str, Any]:
    properties = _properties(schema)
    old = old if isinstance(old, dict) else {}
    merged: dict[str, Any] = {}
    for key, value in new.items():
        prop = properties.get(key)
        path = f"{prefix}{key}"
        if value == MASK and _masked_property(prop, depth):
            if key not in old:
                raise MaskWithoutValue(path)
            merged[key] = old[key]
        elif isinstance(value, dict) and _properties(prop) and as_reference(value) is None:
            merged[key] = _unmask_object(prop, value, old.get(key), f"{path}.", depth + 1)
        else:
            merged[key] = value
    return merged


def _skip_references(check: Callable[..., Any]) -> Callable[..., Any]:
    def checked(validator: Any, value: Any, instance: Any, schema: Any) -> Any:
        if as_reference(instance) is not None:
            return iter(())
        return check(validator, value, instance, schema)

    return checked


_BlockValidator = validators.extend(
    Draft202012Validator,
    {keyword: _skip_references(check) for keyword, check in Draft202012Validator.VALIDATORS.items()},
)


def check_schema(schema: Any) -> list[str]:
    """Problems with a block type's schema (empty when it is usable)."""
    if not isinstance(schema, dict) or schema.get("type", "object") != "object":
        return ['A block schema must be a JSON Schema object with "type": "object".']
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        return [f"Not a valid JSON Schema: {exc.message[:300]}"]
    return []


def validation_errors(schema: dict[str, Any], data: Any) -> dict[str, list[str]]:
    """Field path → problems. Messages name keywords and paths, never the submitted values."""
    errors: dict[str, list[str]] = {}
    for error in _BlockValidator(schema).iter_errors(data):
        path = ".".join(str(part) for part in error.absolute_path) or "data"
        if error.validator == "required":
            message = error.message  # "'x' is a required property": a property name, not a value
        elif error.validator in ("type", "enum", "const", "format"):
            message = f"must satisfy {error.validator}: {error.validator_value!r}"[:300]
        else:
            message = f"does not satisfy {error.validator!r}"
        errors.setdefault(path, []).append(message)
    return errors
