"""A secret generated once and kept in a 0600 file under var/ (embedded and test modes only)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def read_or_create_secret(path: Path, *, nbytes: int = 48) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(nbytes)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        # Another process created it between our read and our open: use theirs.
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value)
    return value
