"""The one JSON parser of the API: what PostgreSQL cannot store is a 400, never a 500.

Strings with NUL or unpaired surrogates answer 400 `invalid` with the field's path in
`details` (as a serializer would); over-deep documents answer 400 `parse_error`.

JSON may carry "\\u0000" and unpaired surrogates ("\\ud800"); Python decodes both, but
PostgreSQL text and jsonb refuse them. JSON nested thousands deep exhausts the decoder's
recursion. All three are the client's mistake, answered before any view runs.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import JSONParser

JSON_MAX_DEPTH = 64


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


def _check(value: Any) -> None:
    stack: list[tuple[Any, list[str]]] = [(value, [])]
    while stack:
        node, path = stack.pop()
        if len(path) > JSON_MAX_DEPTH:
            raise ParseError(f"JSON parse error - documents nest at most {JSON_MAX_DEPTH} levels deep.")
        if isinstance(node, str):
            reason = unstorable_reason(node)
            if reason:
                raise _error_at(path, reason)
        elif isinstance(node, dict):
            for key, item in node.items():
                reason = unstorable_reason(key)
                if reason:
                    raise _error_at([*path, _printable(key)], f"Field name: {reason}")
                stack.append((item, [*path, key]))
        elif isinstance(node, list):
            stack.extend((item, [*path, str(index)]) for index, item in enumerate(node))


class StrictJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the document is nested too deeply.") from None
        _check(data)
        return data
