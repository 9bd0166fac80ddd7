"""Result storage: results and cache records stay on the customer's side.

The default store is a local directory (`TETHER_RESULTS_DIR`, else `~/.tether/storage`). Any
fsspec URL works too (`s3://bucket/prefix`, `gs://…`, `memory://…`, `file:///…`; `pip install
'tether[fsspec]'` plus the filesystem's own package, such as s3fs); fsspec is imported only
for such a URL. The server only ever sees a result's storage key, in the state's details.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_MISSING: Any = object()
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")


@dataclass(frozen=True)
class CacheRecord:
    value: Any
    expires_at: float | None  # epoch seconds, None: never

    def expired(self) -> bool:
        return self.expires_at is not None and time.time() >= self.expires_at


class ResultStore:
    """Stores values under keys: one object per key, in a local directory or at an fsspec URL."""

    def __init__(self, basepath: str | os.PathLike[str] | None = None, serializer: str = "pickle") -> None:
        if basepath is None:
            basepath = os.environ.get("TETHER_RESULTS_DIR") or Path.home() / ".tether" / "storage"
        self.url: str | None = None
        if isinstance(basepath, str) and _URL.match(basepath):
            self.url = basepath.rstrip("/")
            self.basepath = Path(basepath)  # kept for repr and comparisons; the URL is what is used
        else:
            self.basepath = Path(basepath).expanduser()
        if serializer not in ("pickle", "json"):
            raise ValueError("serializer must be 'pickle' or 'json'.")
        self.serializer = serializer
        self._fs: Any = None
        self._root = ""

    def __repr__(self) -> str:
        return f"ResultStore({self.location!r})"

    @property
    def location(self) -> str:
        return self.url or str(self.basepath)

    def __getstate__(self) -> dict[str, Any]:
        # A store travels to Dask workers as its address: each process opens its own filesystem.
        return {**self.__dict__, "_fs": None, "_root": ""}

    def _filesystem(self) -> tuple[Any, str]:
        if self._fs is None:
            try:
                from fsspec.core import url_to_fs  # type: ignore[import-untyped]
            except ImportError as exc:
                raise RuntimeError(f"Result storage {self.url!r} needs fsspec: pip install 'tether[fsspec]'.") from exc
            self._fs, self._root = url_to_fs(self.url)
        return self._fs, self._root

    def _check_key(self, key: str) -> str:
        if not key or "/" in key or "\\" in key or key.startswith("."):
            raise ValueError(f"Invalid storage key {key!r}.")
        return key

    def _path(self, key: str) -> Path:
        return self.basepath / self._check_key(key)

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
        data = self._dumps({"value": value, "expires_at": expires_at})
        if self.url is not None:
            fs, root = self._filesystem()
            fs.makedirs(root, exist_ok=True)
            fs.pipe_file(f"{root}/{self._check_key(key)}", data)
            return key
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return key

    def _read_bytes(self, key: str) -> bytes | None:
        if self.url is not None:
            fs, root = self._filesystem()
            try:
                data: bytes = fs.cat_file(f"{root}/{self._check_key(key)}")
            except FileNotFoundError:
                return None
            return data
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def read(self, key: str) -> CacheRecord | None:
        data = self._read_bytes(key)
        if data is None:
            return None
        try:
            payload = self._loads(data)
        except Exception:  # noqa: BLE001 - a corrupt record is a cache miss, not a crash
            return None
        return CacheRecord(value=payload.get("value"), expires_at=payload.get("expires_at"))

    def exists(self, key: str) -> bool:
        if self.url is not None:
            fs, root = self._filesystem()
            return bool(fs.exists(f"{root}/{self._check_key(key)}"))
        return self._path(key).exists()


_default_store: ResultStore | None = None


def default_result_store() -> ResultStore:
    global _default_store
    if _default_store is None or os.environ.get("TETHER_RESULTS_DIR") not in (None, _default_store.location):
        _default_store = ResultStore()
    return _default_store


LocalFileSystem = ResultStore  # what Prefect users pass as `result_storage`

__all__ = ["CacheRecord", "LocalFileSystem", "ResultStore", "default_result_store"]
