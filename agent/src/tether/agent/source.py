"""Prepare a deployment's code from its source reference, on the agent's host.

- `{"type": "path", "path": DIR}`: the code is already there; runs start in DIR.
- `{"type": "git", "url": URL, "ref": REF}`: one clone per URL under `<work dir>/git/`, fetched
  at every run, and one read-only worktree per commit, where the run starts. Runs of the same
  commit share the worktree; runs of different refs never step on each other.
- no source: runs start in the work directory.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from tether.agent.errors import SourceError

GIT_TIMEOUT_SECONDS = 300


def redact_url(url: str) -> str:
    """The URL without its user and password: credentials never reach a log line."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def prepare_source(source: dict[str, Any] | None, work_dir: Path) -> Path:
    """The directory a run of this source starts in (its entrypoint is relative to it)."""
    if not source:
        return work_dir
    kind = source.get("type")
    if kind == "path":
        directory = Path(str(source.get("path") or "")).expanduser()
        if not directory.is_absolute():
            directory = work_dir / directory
        if not directory.is_dir():
            raise SourceError(f"Source path {str(directory)!r} is not a directory on this agent's host.")
        return directory
    if kind == "git":
        url = str(source.get("url") or "")
        if not url:
            raise SourceError("Git source without a url.")
        return _git_checkout(url, str(source.get("ref") or "HEAD"), work_dir / "git")
    raise SourceError(f"Source type {kind!r} is not supported by this agent (path and git are).")


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    # Several agents may share a work directory: a file lock, not a thread lock.
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _git(*args: str, cwd: Path | None = None) -> str:
    try:
        result = subprocess.run(  # noqa: S603 - fixed git argv, no shell
            ["git", *args],  # noqa: S607 - git from PATH, like any operator would run it
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_SECONDS,
            env={"GIT_TERMINAL_PROMPT": "0", "PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        )
    except FileNotFoundError as exc:
        raise SourceError("git is not installed on this agent's host.") from exc
    except subprocess.TimeoutExpired as exc:
        raise SourceError(f"git {args[0]} took longer than {GIT_TIMEOUT_SECONDS}s.") from exc
    if result.returncode != 0:
        raise SourceError(f"git {args[0]} failed: {result.stderr.strip()[-500:]}")
    return result.stdout.strip()


def _git_checkout(url: str, ref: str, cache: Path) -> Path:
    key = hashlib.sha256(url.encode()).hexdigest()[:16]
    repo = cache / key / "repo"
    with _locked(cache / key / ".lock"):
        try:
            if not (repo / "HEAD").exists():
                repo.parent.mkdir(parents=True, exist_ok=True)
                _git("clone", "--quiet", "--bare", url, str(repo))
            _git("fetch", "--quiet", "--force", url, ref, cwd=repo)
            commit = _git("rev-parse", "FETCH_HEAD^{commit}", cwd=repo)
            tree = cache / key / commit
            if not tree.is_dir():
                _git("worktree", "add", "--quiet", "--detach", str(tree), commit, cwd=repo)
        except SourceError as exc:
            # git may echo the URL (with its credentials) in its errors.
            raise SourceError(str(exc).replace(url, redact_url(url))) from None
    return tree
