"""The `customizations` job variable: JSON Patch (RFC 6902) operations for a serverless request.

The agent applies them to the provider payload it builds (tether.agent.infrastructure.patching);
here, when a deployment or pool is saved, each operation's shape is checked so a mistake is
refused at once with the operation named, not found when the first run starts.
"""

from __future__ import annotations

import json
import re
from typing import Any

from controlplane.core.errors import ValidationFailed

MAX_OPERATIONS = 200
_POINTER = re.compile(r"^(/([^~/]|~[01])*)*$")
_NEEDS_VALUE = frozenset({"add", "replace", "test"})
_NEEDS_FROM = frozenset({"move", "copy"})
_OPS = frozenset({"remove"}) | _NEEDS_VALUE | _NEEDS_FROM

CUSTOMIZATIONS_SCHEMA: dict[str, Any] = {
    "type": "array",
    "title": "Customizations",
    "description": (
        "JSON Patch (RFC 6902) operations applied to the request sent to the provider, "
        'e.g. [{"op": "replace", "path": "/networkConfiguration/awsvpcConfiguration/assignPublicIp", '
        '"value": "DISABLED"}].'
    ),
    "items": {"type": "object"},
    "maxItems": MAX_OPERATIONS,
    "default": [],
}


def _problem(operation: Any) -> str | None:
    if not isinstance(operation, dict):
        return "an operation is an object with 'op' and 'path'"
    op = operation.get("op")
    if op not in _OPS:
        return f"unknown op {op!r}; expected one of {', '.join(sorted(_OPS))}"
    path = operation.get("path")
    if not isinstance(path, str) or not _POINTER.match(path):
        return f"'path' must be a JSON pointer such as '/overrides/cpu', not {path!r}"
    if op in _NEEDS_VALUE and "value" not in operation:
        return f"'{op}' needs a 'value'"
    if op in _NEEDS_FROM:
        source = operation.get("from")
        if not isinstance(source, str) or not _POINTER.match(source):
            return f"'{op}' needs 'from', a JSON pointer, not {source!r}"
    unknown = set(operation) - {"op", "path", "value", "from"}
    if unknown:
        return f"unknown member(s) {', '.join(sorted(unknown))}"
    return None


def _brief(operation: Any) -> str:
    """The operation as JSON, only its op/path/from: the same words the agent uses when one fails to apply."""
    shown = (
        {k: operation[k] for k in ("op", "path", "from") if k in operation}
        if isinstance(operation, dict)
        else operation
    )
    text = json.dumps(shown, default=str)
    return text if len(text) <= 200 else text[:197] + "..."


def check_customizations(operations: Any, *, field: str = "job_variables.customizations") -> None:
    """422 naming the first malformed operation (its index, op and path) and why."""
    if operations is None:
        return
    if not isinstance(operations, list):
        message = f"{field} must be a list of JSON Patch operations."
        raise ValidationFailed(message, details={field: ["Expected a list."]})
    details: dict[str, list[str]] = {}
    for index, operation in enumerate(operations):
        problem = _problem(operation)
        if problem is None:
            continue
        shown = _brief(operation)
        details[f"{field}[{index}]"] = [f"{shown}: {problem}"]
    if details:
        first = next(iter(details))
        raise ValidationFailed(f"Invalid JSON Patch operation {first} {details[first][0]}", details=details)
