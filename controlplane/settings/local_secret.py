"""A secret generated once and kept in a 0600 file under var/ (embedded and test modes only)."""

from __future__ import annotations

import os
import secrets
import sys
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


def read_or_create_master_keys(path: Path) -> str:
    """Embedded mode's block master key: read from `path`, generated (0600) and announced once."""
    from controlplane.blocks.keyring import read_or_create_master_key_file

    value, created = read_or_create_master_key_file(path)
    if created:
        # Settings load before logging is configured: stderr is the log here. Never the key itself.
        print(  # noqa: T201
            f"tether: generated a block master key in {path} (0600); back it up with the database", file=sys.stderr
        )
    return value
