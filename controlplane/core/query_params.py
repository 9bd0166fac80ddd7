"""Parsing of list filters' query parameters: a malformed value is the client's mistake, never a 500."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from controlplane.core.errors import ValidationFailed


def uuid_params(name: str, values: Iterable[str]) -> list[uuid.UUID]:
    """Ids from query parameter `name`; any value that is not a UUID answers 422 naming the parameter."""
    try:
        return [uuid.UUID(value) for value in values]
    except ValueError:
        raise ValidationFailed(f"{name} must be UUIDs.", details={name: ["not a UUID"]}) from None
