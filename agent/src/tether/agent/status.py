"""The agent's figures, written to `<work dir>/agent-status.json`; `tether agent status` reads them.

The agent opens no listening socket, so its status is a file: rewritten at every heartbeat
(atomically), read by the CLI, a container HEALTHCHECK or a liveness probe. Stale means the
agent stopped heartbeating (hung or gone): `status --quiet` then exits 1.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TextIO

STATUS_FILE = "agent-status.json"
# Missing this many heartbeats in a row makes the status stale (the server's offline rule too).
STALE_AFTER_HEARTBEATS = 3


@dataclass
class AgentStats:
    name: str
    pool: str
    version: str
    pid: int = field(default_factory=os.getpid)
    agent_id: str = ""
    started_at: float = field(default_factory=time.time)
    updated_at: float = 0.0
    heartbeat_seconds: float = 15.0
    last_heartbeat_ok_at: float | None = None
    heartbeat_failures: int = 0
    claims: int = 0
    claim_failures: int = 0
    runs_started: int = 0
    runs_finished: int = 0
    runs_active: int = 0
    control_channel: str = "off"
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count(self, **increments: int) -> None:
        with self._lock:
            for name, value in increments.items():
                setattr(self, name, getattr(self, name) + value)

    def update(self, **values: Any) -> None:
        with self._lock:
            for name, value in values.items():
                setattr(self, name, value)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {item.name: getattr(self, item.name) for item in fields(self) if item.name != "_lock"}

    def write(self, work_dir: Path) -> None:
        """Replace the status file atomically (a reader never sees half of it)."""
        self.update(updated_at=time.time())
        payload = json.dumps(self.snapshot(), indent=2, sort_keys=True)
        handle, temporary = tempfile.mkstemp(dir=work_dir, prefix=".agent-status.", suffix=".tmp")
        try:
            with os.fdopen(handle, "w") as out:
                out.write(payload)
            os.replace(temporary, work_dir / STATUS_FILE)
        except OSError:
            Path(temporary).unlink(missing_ok=True)
            raise


def read_status(work_dir: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads((work_dir / STATUS_FILE).read_text())
    except (OSError, ValueError):
        return None
    return data


def is_fresh(status: dict[str, Any], now: float | None = None) -> bool:
    age = (now or time.time()) - float(status.get("updated_at") or 0)
    return age <= STALE_AFTER_HEARTBEATS * float(status.get("heartbeat_seconds") or 15) + 5


def print_status(work_dir: Path, out: TextIO, *, as_json: bool = False, quiet: bool = False) -> int:
    """0 when an agent using this work directory is heartbeating, 1 otherwise."""
    status = read_status(work_dir)
    if status is None:
        if not quiet:
            print(f"No agent status in {work_dir} (is an agent running with --work-dir {work_dir}?).", file=out)
        return 1
    fresh = is_fresh(status)
    if quiet:
        return 0 if fresh else 1
    if as_json:
        print(json.dumps({**status, "fresh": fresh}, indent=2, sort_keys=True), file=out)
        return 0 if fresh else 1
    now = time.time()
    last_ok = status.get("last_heartbeat_ok_at")
    lines = [
        ("agent", f"{status.get('name')} ({status.get('agent_id') or 'not registered'}), pid {status.get('pid')}"),
        ("pool", status.get("pool")),
        ("version", status.get("version")),
        ("state", "running" if fresh else f"STALE: no update for {now - float(status.get('updated_at') or 0):.0f}s"),
        ("uptime", f"{now - float(status.get('started_at') or now):.0f}s"),
        ("control channel", status.get("control_channel")),
        ("last heartbeat", f"{now - float(last_ok):.0f}s ago" if last_ok else "none yet"),
        ("heartbeat failures", status.get("heartbeat_failures")),
        ("claims", f"{status.get('claims')} ({status.get('claim_failures')} failed)"),
        (
            "runs",
            f"{status.get('runs_active')} active, {status.get('runs_started')} started, "
            f"{status.get('runs_finished')} finished",
        ),
    ]
    width = max(len(label) for label, _ in lines)
    for label, value in lines:
        print(f"{label.ljust(width)}  {value}", file=out)
    return 0 if fresh else 1
