"""Matching event names and resource labels against patterns with `*` wildcards.

`tether.flow-run.*` matches every flow-run event; a list of patterns matches any of them.
Used by the event filters of the API and by automation triggers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

LabelFilter = Mapping[str, str | list[str]]


@lru_cache(maxsize=4096)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile("^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$", re.DOTALL)


def matches(pattern: str, value: str) -> bool:
    if "*" not in pattern:
        return pattern == value
    return _compiled(pattern).match(value) is not None


def matches_any(patterns: Iterable[str], value: str) -> bool:
    return any(matches(pattern, value) for pattern in patterns)


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def labels_match(wanted: LabelFilter, labels: Mapping[str, Any]) -> bool:
    """Every wanted label is present and matches one of its patterns."""
    for key, patterns in wanted.items():
        value = labels.get(key)
        if not isinstance(value, str) or not matches_any(_as_list(patterns), value):
            return False
    return True


def related_match(wanted: LabelFilter, related: Iterable[Mapping[str, Any]]) -> bool:
    """Some related resource matches every wanted label (an empty filter always matches)."""
    if not wanted:
        return True
    return any(labels_match(wanted, resource) for resource in related)
