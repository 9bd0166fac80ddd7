"""A tiny, sandboxed template language: `{{ path.to.value }}` looked up in plain JSON data.

Only dictionary keys and list indexes are followed (`event.payload.files[0]`,
`event.resource["tether.resource.id"]`): there is no attribute access, no call and no
expression, so a template can read the data it is given and nothing else. A string that is
exactly one placeholder keeps the value's JSON type (a number stays a number); placeholders
inside longer strings are rendered as text. A missing path renders as empty (or null).
"""

from __future__ import annotations

import json
import re
from typing import Any

_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_SEGMENT = re.compile(r"""\.?([A-Za-z_][\w-]*)|\[(\d+)\]|\["([^"]*)"\]|\['([^']*)'\]""")
MAX_RENDERED_CHARS = 100_000


class TemplateError(ValueError):
    """A placeholder that is not a plain path."""


def parse_path(expression: str) -> list[str | int]:
    parts: list[str | int] = []
    position = 0
    while position < len(expression):
        found = _SEGMENT.match(expression, position)
        if found is None or found.end() == position:
            raise TemplateError(f"{{{{ {expression} }}}} is not a path like event.resource.id or body['key']")
        name, index, double, single = found.groups()
        parts.append(int(index) if index is not None else (name or double or single or ""))
        position = found.end()
    if not parts or not isinstance(parts[0], str):
        raise TemplateError(f"{{{{ {expression} }}}} must start with a name")
    return parts


def lookup(data: Any, path: list[str | int]) -> Any:
    value = data
    for part in path:
        if isinstance(value, dict) and isinstance(part, str):
            value = value.get(part)
        elif isinstance(value, list) and isinstance(part, int) and part < len(value):
            value = value[part]
        else:
            return None
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, default=str)


def render_string(template: str, context: dict[str, Any]) -> Any:
    whole = _PLACEHOLDER.fullmatch(template.strip())
    if whole is not None and template.strip() == template:
        return lookup(context, parse_path(whole.group(1)))
    rendered = _PLACEHOLDER.sub(lambda found: _text(lookup(context, parse_path(found.group(1)))), template)
    return rendered[:MAX_RENDERED_CHARS]


def render(template: Any, context: dict[str, Any]) -> Any:
    """Render every string inside `template` (dicts and lists are walked; keys are not templated)."""
    if isinstance(template, str):
        return render_string(template, context)
    if isinstance(template, dict):
        return {key: render(value, context) for key, value in template.items()}
    if isinstance(template, list):
        return [render(item, context) for item in template]
    return template


def check_template(template: Any) -> None:
    """Raise TemplateError for a placeholder that is not a plain path (checked when a template is saved)."""
    if isinstance(template, str):
        for found in _PLACEHOLDER.finditer(template):
            parse_path(found.group(1))
    elif isinstance(template, dict):
        for value in template.values():
            check_template(value)
    elif isinstance(template, list):
        for item in template:
            check_template(item)
