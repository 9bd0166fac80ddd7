"""JSON Patch (RFC 6902) applied to the request an infrastructure is about to send.

A deployment's `customizations` job variable is a list of standard operations; the serverless
infrastructures (ECS, Cloud Run, ACI) build the provider's request payload, apply the list to
it, and send the result, so any field the provider accepts can be set without new code. The
control plane checks the operations' shape when the deployment is saved
(controlplane/workpools/customizations.py); whether a path exists is only known here, so a
failure names the operation by its position and content.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from typing import Any

from tether.agent.infrastructure.base import InfrastructureError

_MISSING = object()


class PatchError(InfrastructureError):
    """One operation could not be applied; the message names it (index, op, path)."""

    def __init__(self, index: int, operation: Any, reason: str) -> None:
        super().__init__(f"customizations[{index}] {_describe(operation)}: {reason}")
        self.index = index


def _describe(operation: Any) -> str:
    if not isinstance(operation, dict):
        return repr(operation)
    text = json.dumps({k: operation[k] for k in ("op", "path", "from") if k in operation}, sort_keys=True)
    return text if len(text) <= 200 else text[:197] + "..."


def parse_pointer(pointer: str) -> list[str]:
    """RFC 6901: "" is the whole document; "/a/~1b/0" is ["a", "/b", "0"]."""
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise ValueError(f"a JSON pointer starts with '/': {pointer!r}")
    return [part.replace("~1", "/").replace("~0", "~") for part in pointer[1:].split("/")]


def _index(container: list[Any], part: str, *, for_insert: bool) -> int:
    if for_insert and part == "-":
        return len(container)
    if not part.isdigit() or (part != "0" and part.startswith("0")):
        raise ValueError(f"{part!r} is not an array index")
    index = int(part)
    limit = len(container) if for_insert else len(container) - 1
    if index > limit:
        raise ValueError(f"index {index} is out of range (the array has {len(container)} items)")
    return index


def _parent(document: Any, tokens: list[str]) -> tuple[Any, str]:
    """The container holding the last part, and that part."""
    node = document
    for part in tokens[:-1]:
        node = _child(node, part)
    return node, tokens[-1]


def _child(node: Any, part: str) -> Any:
    if isinstance(node, dict):
        if part not in node:
            raise ValueError(f"{part!r} does not exist")
        return node[part]
    if isinstance(node, list):
        return node[_index(node, part, for_insert=False)]
    raise ValueError(f"{part!r} is inside a {type(node).__name__}, not an object or array")


def _get(document: Any, tokens: list[str]) -> Any:
    node = document
    for part in tokens:
        node = _child(node, part)
    return node


def _add(document: Any, tokens: list[str], value: Any) -> Any:
    if not tokens:
        return value
    parent, part = _parent(document, tokens)
    if isinstance(parent, dict):
        parent[part] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, part, for_insert=True), value)
    else:
        raise ValueError(f"cannot add {part!r} to a {type(parent).__name__}")
    return document


def _remove(document: Any, tokens: list[str]) -> tuple[Any, Any]:
    if not tokens:
        raise ValueError("cannot remove the whole document")
    parent, part = _parent(document, tokens)
    if isinstance(parent, dict):
        if part not in parent:
            raise ValueError(f"{part!r} does not exist")
        return document, parent.pop(part)
    if isinstance(parent, list):
        return document, parent.pop(_index(parent, part, for_insert=False))
    raise ValueError(f"cannot remove {part!r} from a {type(parent).__name__}")


def _json_equal(left: Any, right: Any) -> bool:
    """Equality as RFC 6902's `test` defines it: Python's would take true for 1 and 1 for true."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left is right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_json_equal(left[key], right[key]) for key in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(_json_equal(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, (dict, list)) or isinstance(right, (dict, list)):
        return False
    return bool(left == right)


def _apply_one(document: Any, operation: Any) -> Any:
    if not isinstance(operation, dict):
        raise ValueError("an operation is an object with 'op' and 'path'")
    op = operation.get("op")
    path = operation.get("path")
    if not isinstance(path, str):
        raise ValueError("'path' must be a JSON pointer string")
    tokens = parse_pointer(path)
    if op in ("add", "replace", "test") and "value" not in operation:
        raise ValueError(f"'{op}' needs a 'value'")
    if op == "add":
        return _add(document, tokens, copy.deepcopy(operation["value"]))
    if op == "remove":
        return _remove(document, tokens)[0]
    if op == "replace":
        _get(document, tokens)  # the target must exist
        document = _remove(document, tokens)[0] if tokens else document
        return _add(document, tokens, copy.deepcopy(operation["value"]))
    if op == "test":
        # The actual value is not shown: the request holds the run's token.
        if not _json_equal(_get(document, tokens), operation["value"]):
            raise ValueError(f"the value is not {json.dumps(operation['value'])[:100]}")
        return document
    if op in ("move", "copy"):
        source = operation.get("from")
        if not isinstance(source, str):
            raise ValueError(f"'{op}' needs a 'from' JSON pointer")
        from_tokens = parse_pointer(source)
        if op == "move":
            if tokens[: len(from_tokens)] == from_tokens and len(tokens) > len(from_tokens):
                raise ValueError("cannot move a value into one of its own children")
            document, value = _remove(document, from_tokens)
        else:
            value = copy.deepcopy(_get(document, from_tokens))
        return _add(document, tokens, value)
    raise ValueError(f"unknown op {op!r} (add, remove, replace, move, copy, test)")


def apply_patch(document: Any, operations: Sequence[Any]) -> Any:
    """`document` with `operations` applied in order, as a new value; `PatchError` names the first failure.

    Atomic as RFC 6902 asks: the input is never modified, so a failure leaves nothing half-applied.
    """
    result = copy.deepcopy(document)
    for index, operation in enumerate(operations):
        try:
            result = _apply_one(result, operation)
        except ValueError as exc:
            raise PatchError(index, operation, str(exc)) from None
    return result
