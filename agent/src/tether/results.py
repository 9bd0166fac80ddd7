"""Result storage: results and cache records stay on the customer's side.

The default store is a local directory (`TETHER_RESULTS_DIR`, else `~/.tether/storage`). The
server only ever sees a result's storage key, in the state's details.
"""

from __future__ import annotations

import json
import os
import pickle
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_MISSING: Any = object()


@dataclass(frozen=True)
class CacheRecord:
    value: Any
    expires_at: float | None  # epoch seconds, None: never

    def expired(self) -> bool:
        return self.expires_at is not None and time.time() >= self.expires_at


class ResultStore:
    """Stores values under keys in a local directory (one file per key, written atomically)."""

    def __init__(self, basepath: str | os.PathLike[str] | None = None, serializer: str = "pickle") -> None:
        if basepath is None:
            basepath = os.environ.get("TETHER_RESULTS_DIR") or Path.home() / ".tether" / "storage"
        self.basepath = Path(basepath).expanduser()
        if serializer not in ("pickle", "json"):
            raise ValueError("serializer must be 'pickle' or 'json'.")
        self.serializer = serializer

    def _path(self, key: str) -> Path:
        if not key or "/" in key or "\\" in key or key.startswith("."):
            raise ValueError(f"Invalid storage key {key!r}.")
        return self.basepath / key

    def _dumps(self, payload: dict[str, Any]) -> bytes:
        if self.serializer == "json":
            return json.dumps(payload).encode()
        return pickle.dumps(payload)

    def _loads(self, data: bytes) -> dict[str, Any]:
        if data[:1] == b"{":
            loaded: dict[str, Any] = json.loads(data)
            return loaded
        unpickled: dict[str, Any] = pickle.loads(data)  # noqa: S301 - our own store, written by this SDK
        return unpickled

    def write(self, key: str, value: Any, *, expires_at: float | None = None) -> str:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = self._dumps({"value": value, "expires_at": expires_at})
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return key

    def read(self, key: str) -> CacheRecord | None:
        try:
            data = self._path(key).read_bytes()
        except FileNotFoundError:
            return None
        try:
            payload = self._loads(data)
        except Exception:  # noqa: BLE001 - a corrupt record is a cache miss, not a crash
            return None
        return CacheRecord(value=payload.get("value"), expires_at=payload.get("expires_at"))

    def exists(self, key: str) -> bool:
        return self._path(key).exists()


_default_store: ResultStore | None = None


def default_result_store() -> ResultStore:
    global _default_store
    if _default_store is None or os.environ.get("TETHER_RESULTS_DIR") not in (None, str(_default_store.basepath)):
        _default_store = ResultStore()
    return _default_store


LocalFileSystem = ResultStore  # what Prefect users pass as `result_storage`

__all__ = ["CacheRecord", "LocalFileSystem", "ResultStore", "default_result_store"]
