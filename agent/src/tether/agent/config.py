"""The agent's configuration, from flags and the environment, checked once at start."""

from __future__ import annotations

import os
import re
import socket
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from urllib.parse import urlsplit

from tether._signal_channel import WORKSPACE_PATH, websocket_url, workspace_channel_url
from tether.agent.errors import ConfigError

_NAME_FORBIDDEN = re.compile(r"[/%&<>\x00-\x1f\x7f]")

DEFAULT_LIMIT = 4
DEFAULT_GRACE_SECONDS = 10.0
DEFAULT_DRAIN_TIMEOUT = 300.0
# With the WebSocket open a claim follows every wake-up (and every finished run); this timer is
# only the safety net for a lost push. Prefect's workers poll every 10 s; idle fleets cost little.
DEFAULT_CLAIM_INTERVAL = 15.0


def default_work_dir() -> Path:
    return (Path.home() / ".tether" / "agent").resolve()


@dataclass(frozen=True)
class AgentConfig:
    api_url: str
    api_key: str = field(repr=False)
    pool: str
    queues: tuple[str, ...] = ()
    limit: int = DEFAULT_LIMIT
    name: str = ""
    work_dir: Path = Path(".")
    ca_bundle: str | None = None
    websocket: bool = True
    grace_seconds: float = DEFAULT_GRACE_SECONDS
    drain_timeout: float = DEFAULT_DRAIN_TIMEOUT
    claim_interval: float = DEFAULT_CLAIM_INTERVAL

    @classmethod
    def build(
        cls,
        *,
        environ: Mapping[str, str],
        pool: str,
        queues: Sequence[str] = (),
        limit: int = DEFAULT_LIMIT,
        name: str | None = None,
        work_dir: str | None = None,
        websocket: bool = True,
        grace_seconds: float = DEFAULT_GRACE_SECONDS,
        drain_timeout: float = DEFAULT_DRAIN_TIMEOUT,
        claim_interval: float = DEFAULT_CLAIM_INTERVAL,
    ) -> AgentConfig:
        """Validate everything the agent needs before it makes a single request; `ConfigError` names the fix."""
        api_url = (environ.get("TETHER_API_URL") or "").strip()
        api_key = (environ.get("TETHER_API_KEY") or "").strip()
        ca_bundle = (environ.get("TETHER_CA_BUNDLE") or "").strip() or None
        if not api_url:
            raise ConfigError(
                "TETHER_API_URL is not set: give the workspace API URL (…/api/v1/orgs/ORG/workspaces/WS)."
            )
        parts = urlsplit(api_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"TETHER_API_URL must be an https:// URL, not {api_url!r}.")
        if not WORKSPACE_PATH.match(parts.path):
            raise ConfigError(
                f"TETHER_API_URL must be a workspace API URL ending in /api/v1/orgs/ORG/workspaces/WS, not {api_url!r}."
            )
        if not api_key:
            raise ConfigError("TETHER_API_KEY is not set: give a worker-role service-account key (tether_sa_…).")
        if api_key.startswith("tether_run_"):
            raise ConfigError("TETHER_API_KEY holds a run token; the agent needs a worker-role key (tether_sa_…).")
        if not api_key.startswith("tether_"):
            raise ConfigError("TETHER_API_KEY does not look like a Tether key (they start with tether_).")
        if ca_bundle is not None:
            if not Path(ca_bundle).is_file():
                raise ConfigError(f"TETHER_CA_BUNDLE={ca_bundle!r} is not a readable file.")
            try:
                ssl.create_default_context(cafile=ca_bundle)
            except (ssl.SSLError, OSError) as exc:
                raise ConfigError(f"TETHER_CA_BUNDLE={ca_bundle!r} holds no usable PEM certificate: {exc}") from exc
        if not pool.strip():
            raise ConfigError("--pool is required: the work pool whose runs this agent executes.")
        if limit < 1:
            raise ConfigError(f"--limit must be at least 1, not {limit}.")
        if grace_seconds < 0 or drain_timeout < 0 or claim_interval <= 0:
            raise ConfigError("--grace-seconds and --drain-timeout must be ≥ 0, --claim-interval > 0.")
        name = (name or socket.gethostname() or "agent").strip()[:100]
        if _NAME_FORBIDDEN.search(name):
            raise ConfigError(f"--name {name!r} may not contain '/', '%', '&', '<', '>' or control characters.")
        directory = Path(work_dir).expanduser().resolve() if work_dir else default_work_dir()
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"--work-dir {str(directory)!r} cannot be created: {exc.strerror}.") from exc
        if not os.access(directory, os.W_OK):
            raise ConfigError(f"--work-dir {str(directory)!r} is not writable.")
        return cls(
            api_url=api_url.rstrip("/"),
            api_key=api_key,
            pool=pool.strip(),
            queues=tuple(q.strip() for q in queues if q.strip()),
            limit=limit,
            name=name,
            work_dir=directory,
            ca_bundle=ca_bundle,
            websocket=websocket,
            grace_seconds=grace_seconds,
            drain_timeout=drain_timeout,
            claim_interval=claim_interval,
        )

    @property
    def secure(self) -> bool:
        return self.api_url.startswith("https://")

    @cached_property
    def ssl_context(self) -> ssl.SSLContext:
        """The one TLS policy of every connection: the system store, or exactly the given CA bundle."""
        return ssl.create_default_context(cafile=self.ca_bundle) if self.ca_bundle else ssl.create_default_context()

    def websocket_url(self, path: str) -> str:
        """`ws(s)://host/<prefix>/<path>` on the same origin as the API."""
        return websocket_url(self.api_url, path)

    def agent_channel_url(self, agent_id: str) -> str:
        url = workspace_channel_url(self.api_url, f"agents/{agent_id}")
        assert url is not None  # checked in build()
        return url
