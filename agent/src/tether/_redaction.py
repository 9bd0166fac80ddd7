"""Secret values this process has revealed, and their redaction from text it ships or prints.

A value enters when the SDK loads a block (its secret fields) or the agent reveals a
credentials block for a run; log lines, the console and state messages then show `***`
instead. Process-wide on purpose: a secret revealed for one run must not appear in anything
this process writes afterwards.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from typing import Any

REDACTED = "***"
# Shorter values would turn ordinary words into `***`; documented in docs/blocks.md.
MIN_SECRET_LENGTH = 4

_lock = threading.Lock()
_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield str(value)


def register_secret(value: Any) -> None:
    """Redact `value` (a string, or every string and number inside a dict or list) from now on."""
    global _pattern
    found = {text for text in _strings(value) if len(text) >= MIN_SECRET_LENGTH}
    for text in list(found):
        # A multi-line secret (a kubeconfig, a key) is also redacted line by line: logs split it.
        found.update(line.strip() for line in text.splitlines() if len(line.strip()) >= MIN_SECRET_LENGTH)
    with _lock:
        if found <= _secrets:
            return
        _secrets.update(found)
        # Longest first, so a secret that contains another is replaced whole.
        ordered = sorted(_secrets, key=len, reverse=True)
        _pattern = re.compile("|".join(re.escape(text) for text in ordered))


def redact(text: str) -> str:
    """`text` with every registered secret replaced by `***`."""
    pattern = _pattern
    if pattern is None or not text:
        return text
    return pattern.sub(REDACTED, text)


def redact_any(value: Any) -> Any:
    """Strings anywhere inside `value` redacted (for JSON bodies such as a state's message and details)."""
    if _pattern is None:
        return value
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: redact_any(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact_any(item) for item in value]
    return value


def forget_secrets() -> None:
    """Drop every registered secret (tests)."""
    global _pattern
    with _lock:
        _secrets.clear()
        _pattern = None


def _register_from_environment() -> None:
    # The agent resolved block references into these environment variables for this run's
    # process (tether.agent.references): their values are secrets this process must redact.
    import os

    for name in os.environ.get("TETHER_REDACT_ENV", "").split(","):
        if name.strip():
            register_secret(os.environ.get(name.strip(), ""))


_register_from_environment()
