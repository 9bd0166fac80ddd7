"""Profiles: a workspace URL and key stored by `tether login` in `$TETHER_HOME/profiles.json`.

The file holds an API key, so it is created owner-only (0600, in a 0700 directory). Only `os`
and `json` here: `import tether` reads the active profile when the environment names no server.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

DEFAULT_PROFILE = "default"


def tether_home() -> Path:
    return Path(os.environ.get("TETHER_HOME") or "~/.tether").expanduser()


def profiles_path() -> Path:
    return tether_home() / "profiles.json"


def _read() -> dict[str, Any]:
    try:
        data = json.loads(profiles_path().read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def active_profile() -> dict[str, str]:
    """The active profile's `api_url` and `api_key` ({} when there is none)."""
    data = _read()
    profiles = data.get("profiles") or {}
    profile = profiles.get(data.get("active") or DEFAULT_PROFILE) if isinstance(profiles, dict) else None
    if not isinstance(profile, dict):
        return {}
    return {key: str(profile[key]) for key in ("api_url", "api_key") if profile.get(key)}


def save_profile(name: str, *, api_url: str, api_key: str) -> Path:
    """Store (or replace) a profile and make it the active one; returns the file's path."""
    home = tether_home()
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(home, 0o700)
    data = _read()
    stored = data.get("profiles")
    profiles: dict[str, Any] = stored if isinstance(stored, dict) else {}
    profiles[name] = {"api_url": api_url, "api_key": api_key}
    data = {"active": name, "profiles": profiles}
    path = profiles_path()
    # Written beside the file and renamed over it: a crash never leaves half a file, and the
    # key is never readable by others, not even for an instant (the mode is set at creation).
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=2)
        os.chmod(temporary, 0o600)  # O_CREAT's mode is narrowed by the umask, never widened; be exact
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def api_url_and_key(environ: Any = None) -> tuple[str | None, str | None]:
    """The server to talk to: `TETHER_API_URL`/`TETHER_API_KEY` when set, else the active profile."""
    env = os.environ if environ is None else environ
    url = env.get("TETHER_API_URL") or None
    if url:
        return url, env.get("TETHER_API_KEY") or None
    profile = active_profile()
    return profile.get("api_url"), profile.get("api_key")
