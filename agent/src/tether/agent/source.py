"""Prepare a deployment's code from its source reference, on the agent's host.

- `{"type": "path", "path": DIR}`: the code is already there; runs start in DIR.
- `{"type": "git", "url": URL, "ref": REF, "credentials_block": REF?}`: one clone per URL under
  `<work dir>/git/`, fetched at every run, and one read-only worktree per commit, where the run
  starts. Runs of the same commit share the worktree; runs of different refs never step on each
  other. A credentials block (a Git credentials block: token, or username and password) is
  revealed just in time with the run's token and reaches git only as an HTTP header in git's
  environment: never in its arguments (the process list), the repository's config on disk, or
  a log line.
- no source: runs start in the work directory.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import os
import subprocess
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from tether._redaction import redact, register_secret
from tether.agent.errors import SourceError
from tether.exceptions import TetherException

GIT_TIMEOUT_SECONDS = 300
# What a token-only Git credentials block logs in as: forges (GitHub, GitLab, Gitea) take any user
# name with a token; a block's own `username` wins.
TOKEN_USERNAME = "x-access-token"  # noqa: S105 - a user name, not a secret
# git's own words for "the server wants credentials we did not give, or refused ours".
_AUTH_FAILURES = ("Authentication failed", "could not read Username", "could not read Password", "terminal prompts")

# Reveals a block a deployment references (`git-credentials/acme`, an id …) with the run's token.
RevealBlock = Callable[[str], Mapping[str, Any]]


@dataclass(frozen=True)
class GitCredentials:
    """HTTP basic credentials for one repository URL, from a Git credentials block."""

    label: str
    username: str
    secret: str = field(repr=False)

    def basic(self) -> str:
        return base64.b64encode(f"{self.username}:{self.secret}".encode()).decode()

    def environment(self, url: str) -> dict[str, str]:
        """git configuration passed in its environment (GIT_CONFIG_COUNT, git >= 2.31), scoped to `url`."""
        return {
            "GIT_CONFIG_COUNT": "1",
            "GIT_CONFIG_KEY_0": f"http.{url}.extraHeader",
            "GIT_CONFIG_VALUE_0": f"Authorization: Basic {self.basic()}",
        }


def git_credentials(reference: str, reveal: RevealBlock) -> GitCredentials:
    """Reveal the Git credentials block `reference` names (a bare name means a `git-credentials` block)."""
    text = reference.strip()
    qualified = text if ("/" in text or "{" in text or _is_uuid(text)) else f"git-credentials/{text}"
    try:
        data = reveal(qualified)
    except TetherException as exc:
        raise SourceError(f"The git credentials block {reference!r} could not be revealed: {exc}") from None
    token, password, username = data.get("token"), data.get("password"), data.get("username")
    secret = token or password
    if not isinstance(secret, str) or not secret:
        raise SourceError(f"The block {reference!r} has no token or password for git.")
    user = username if isinstance(username, str) and username else TOKEN_USERNAME
    credentials = GitCredentials(label=reference, username=user, secret=secret)
    register_secret(secret)
    register_secret(credentials.basic())  # the header's encoded form, in case anything echoes it
    return credentials


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def redact_url(url: str) -> str:
    """The URL without its user and password: credentials never reach a log line."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def prepare_source(source: dict[str, Any] | None, work_dir: Path, *, reveal: RevealBlock | None = None) -> Path:
    """The directory a run of this source starts in (its entrypoint is relative to it).

    `reveal` fetches a block the deployment references (with the run's token): a git source's
    `credentials_block` is revealed through it just before git runs."""
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
        credentials = None
        reference = source.get("credentials_block")
        if reference:
            if reveal is None:
                raise SourceError("This git source names a credentials block, but the agent cannot reveal blocks here.")
            if urlsplit(url).scheme not in ("http", "https"):
                raise SourceError("A credentials block works with http(s) git URLs; ssh URLs use the agent's SSH keys.")
            credentials = git_credentials(str(reference), reveal)
        return _git_checkout(url, str(source.get("ref") or "HEAD"), work_dir / "git", credentials)
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


def _git(*args: str, cwd: Path | None = None, env: Mapping[str, str] | None = None) -> str:
    try:
        result = subprocess.run(  # noqa: S603 - fixed git argv, no shell
            ["git", *args],  # noqa: S607 - git from PATH, like any operator would run it
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_SECONDS,
            env={"GIT_TERMINAL_PROMPT": "0", "PATH": os.environ.get("PATH", "/usr/bin:/bin"), **(env or {})},
        )
    except FileNotFoundError as exc:
        raise SourceError("git is not installed on this agent's host.") from exc
    except subprocess.TimeoutExpired as exc:
        raise SourceError(f"git {args[0]} took longer than {GIT_TIMEOUT_SECONDS}s.") from exc
    if result.returncode != 0:
        stderr = redact(result.stderr.strip())[-500:]
        if env and any(words in stderr for words in _AUTH_FAILURES):
            raise SourceError(
                f"git {args[0]} was refused: the repository did not accept the credentials block's "
                f"token or password ({stderr})"
            )
        raise SourceError(f"git {args[0]} failed: {stderr}")
    return result.stdout.strip()


def _git_checkout(url: str, ref: str, cache: Path, credentials: GitCredentials | None = None) -> Path:
    key = hashlib.sha256(url.encode()).hexdigest()[:16]
    repo = cache / key / "repo"
    auth = credentials.environment(url) if credentials else None
    with _locked(cache / key / ".lock"):
        try:
            if not (repo / "HEAD").exists():
                repo.parent.mkdir(parents=True, exist_ok=True)
                _git("clone", "--quiet", "--bare", url, str(repo), env=auth)
            _git("fetch", "--quiet", "--force", url, ref, cwd=repo, env=auth)
            commit = _git("rev-parse", "FETCH_HEAD^{commit}", cwd=repo)
            tree = cache / key / commit
            if not tree.is_dir():
                _git("worktree", "add", "--quiet", "--detach", str(tree), commit, cwd=repo)
        except SourceError as exc:
            # git may echo the URL (with its credentials) in its errors.
            raise SourceError(str(exc).replace(url, redact_url(url))) from None
    return tree
