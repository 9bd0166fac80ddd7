"""The one JSON parser of the API: what PostgreSQL cannot store is a 400, never a 500.

Strings with NUL or unpaired surrogates answer 400 `invalid` with the field's path in
`details` (as a serializer would); over-deep documents answer 400 `parse_error`.

JSON may carry "\\u0000" and unpaired surrogates ("\\ud800"); Python decodes both, but
PostgreSQL text and jsonb refuse them. JSON nested thousands deep exhausts the decoder's
recursion. All three are the client's mistake, answered before any view runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.utils import json

JSON_MAX_DEPTH = 64
# Far above any real request (a full log or event batch is a few thousand objects).
JSON_MAX_OBJECTS = 100_000


def unstorable_reason(text: str) -> str | None:
    if "\x00" in text:
        return "Null characters are not allowed."
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "Text must be valid Unicode (no unpaired surrogates)."
    return None


def _printable(key: str) -> str:
    return key.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\u0000")


def _error_at(path: list[str], reason: str) -> ValidationError:
    """A field error nested like a serializer's: ["1", "message"] → {"1": {"message": [reason]}}."""
    detail: Any = [reason]
    for part in reversed(path):
        detail = {part: detail}
    return ValidationError(detail if isinstance(detail, dict) else {"non_field_errors": detail})


def _children(node: Any) -> Iterator[tuple[str, Any, bool]]:
    """(key, item, key_is_a_field_name) for a container's items; nothing for a scalar."""
    if isinstance(node, dict):
        for key, item in node.items():
            yield key, item, True
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield str(index), item, False


def _check(value: Any) -> None:
    # Depth-first with one iterator per open container: memory grows with the depth (at most
    # JSON_MAX_DEPTH), not with the number of items, so a million-item array costs no copies.
    if isinstance(value, str) and (reason := unstorable_reason(value)):
        raise _error_at([], reason)
    path: list[str] = []
    stack = [_children(value)]
    while stack:
        for key, item, is_field_name in stack[-1]:
            if is_field_name and (reason := unstorable_reason(key)):
                raise _error_at([*path, _printable(key)], f"Field name: {reason}")
            if len(path) + 1 > JSON_MAX_DEPTH:
                raise ParseError(f"JSON parse error - documents nest at most {JSON_MAX_DEPTH} levels deep.")
            if isinstance(item, str):
                if reason := unstorable_reason(item):
                    raise _error_at([*path, key], reason)
            elif isinstance(item, dict | list):
                path.append(key)
                stack.append(_children(item))
                break
        else:
            stack.pop()
            if path:
                path.pop()


class _ObjectBudget:
    """object_pairs_hook counting the objects a document builds, refusing past the limit while parsing.

    Three bytes of input (`{},`) become a dict of ~64 bytes: a body at the size limit would
    otherwise build over a hundred megabytes of objects before any view could count them.
    """

    def __init__(self) -> None:
        self.remaining = JSON_MAX_OBJECTS

    def __call__(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        self.remaining -= 1
        if self.remaining < 0:
            raise ParseError(f"JSON parse error - a document holds at most {JSON_MAX_OBJECTS} objects.")
        return dict(pairs)


class StrictJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        parse_constant = json.strict_constant if self.strict else None
        try:
            # The body is at most DATA_UPLOAD_MAX_MEMORY_SIZE: decoding it whole is what DRF's reader does too.
            text = stream.read().decode(encoding) if stream is not None else ""
            data = json.loads(text, parse_constant=parse_constant, object_pairs_hook=_ObjectBudget())
        except RecursionError:
            raise ParseError("JSON parse error - the document is nested too deeply.") from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        _check(data)
        return data
