"""A per-process cache of what an API key is and may do, never staler than the database.

Every request with an API key used to resolve its key and then its access (organisation,
workspace, roles, scopes) with two ORM queries whose compilation was a third of a small
request's CPU. Both answers change rarely, so each web process keeps them, keyed by the
key's hash (and the slugs in the URL), and trusts an entry only while the database's access
generation is the value the entry was filled at. PostgreSQL triggers bump that generation in
the same transaction as any write to keys, users, service accounts, organisations,
workspaces or memberships (migration orgs 0003), so a revoked key or a removed member is
refused by the very next request on every replica. Reading the generation is one trivial
query, read before the data it guards (a write in between only costs a miss).

Expiry is time, not a write: a hit checks `expires_at` again. Without the generation row (the
embedded SQLite mode, or a flushed test database) nothing is cached.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from django.db import connection

from controlplane.orgs.models import AccessGeneration

# Also a bound on a missed invalidation if someone edits the tables with triggers disabled.
MAX_AGE_SECONDS = 300.0
MAX_ENTRIES = 10_000
_GENERATION_ATTRIBUTE = "_tether_access_generation"
_GENERATION_SQL = f"SELECT value FROM {AccessGeneration._meta.db_table} WHERE id = 1"  # noqa: S608 - no input
_RESEED_SQL = (
    f"INSERT INTO {AccessGeneration._meta.db_table} (id, value) "  # noqa: S608 - no input
    "VALUES (1, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint) ON CONFLICT (id) DO NOTHING"
)


class AccessCache:
    def __init__(self) -> None:
        self._entries: dict[Any, tuple[int, float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Any, generation: int | None) -> Any | None:
        if generation is None:
            return None
        entry = self._entries.get(key)
        if entry is None or entry[0] != generation or time.monotonic() - entry[1] > MAX_AGE_SECONDS:
            return None
        return entry[2]

    def put(self, key: Any, generation: int | None, value: Any) -> None:
        if generation is None:
            return
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = (generation, time.monotonic(), value)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _read_generation() -> int | None:
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(_GENERATION_SQL)
        row = cursor.fetchone()
        if row is None:
            # The row went with a TRUNCATE (a flushed test database). Start again from the clock,
            # so no value from before the flush comes back; this request goes uncached.
            cursor.execute(_RESEED_SQL)
            return None
    return int(row[0])


def access_generation(request: Any) -> int | None:
    """The access generation as this request first read it (read once per request)."""
    if not hasattr(request, _GENERATION_ATTRIBUTE):
        setattr(request, _GENERATION_ATTRIBUTE, _read_generation())
    generation: int | None = getattr(request, _GENERATION_ATTRIBUTE)
    return generation


keys = AccessCache()
accesses = AccessCache()


def clear_access_caches() -> None:
    keys.clear()
    accesses.clear()
