"""Per-workspace data keys: created on first use, unwrapped on demand, re-wrapped on rotation.

Master keys come from `settings.TETHER_MASTER_KEYS` (see keyring.py) and never touch the
database; only wrapped data keys do.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.db import IntegrityError, transaction

from controlplane.blocks.crypto import MasterKeyUnavailable, new_data_key, unwrap_data_key, wrap_data_key
from controlplane.blocks.keyring import Keyring, MasterKeyError, parse_master_keys
from controlplane.blocks.models import WorkspaceDataKey

logger = logging.getLogger(__name__)


@lru_cache(maxsize=4)
def _parse(raw: str) -> Keyring:
    return parse_master_keys(raw)


def keyring() -> Keyring:
    raw = getattr(settings, "TETHER_MASTER_KEYS", "")
    try:
        return _parse(raw)
    except MasterKeyError as exc:
        raise MasterKeyUnavailable(f"TETHER_MASTER_KEYS: {exc}") from None


@dataclass(frozen=True)
class DataKey:
    workspace_id: uuid.UUID
    generation: int
    material: bytes

    def __repr__(self) -> str:
        return f"DataKey(workspace_id={self.workspace_id}, generation={self.generation})"


def _unwrap(row: WorkspaceDataKey) -> DataKey:
    master = keyring().get(row.master_key_id)
    if master is None:
        raise MasterKeyUnavailable(
            f"the data key of workspace {row.workspace_id} is wrapped by master key {row.master_key_id!r}, "
            "which TETHER_MASTER_KEYS no longer lists"
        )
    material = unwrap_data_key(master, bytes(row.wrapped_key), workspace_id=row.workspace_id)
    return DataKey(workspace_id=row.workspace_id, generation=row.generation, material=material)


def _create(workspace_id: uuid.UUID) -> None:
    master = keyring().current
    try:
        with transaction.atomic():
            WorkspaceDataKey.dangerously_unscoped.create(
                workspace_id=workspace_id,
                master_key_id=master.key_id,
                wrapped_key=wrap_data_key(master, new_data_key(), workspace_id=workspace_id),
            )
    except IntegrityError:
        pass  # another request created it first: use theirs


def data_key_for(workspace_id: uuid.UUID, *, lock: bool = False) -> DataKey:
    """The workspace's data key, created on first use. `lock` holds its row until the transaction ends
    (block writes and data-key rotation lock it, so nothing encrypts under a key being replaced)."""
    rows = WorkspaceDataKey.dangerously_unscoped.filter(workspace_id=workspace_id)
    if lock:
        rows = rows.select_for_update()
    row = rows.first()
    if row is None:
        _create(workspace_id)
        row = rows.get()
    return _unwrap(row)


@dataclass
class RewrapReport:
    rewrapped: int = 0
    remaining: int = 0
    current_key_id: str = ""


def master_key_rotate(
    *, batch_size: int = 100, limit: int | None = None, on_rewrapped: Callable[[uuid.UUID], None] | None = None
) -> RewrapReport:
    """Re-wrap every data key not yet under the newest master key, one committed batch at a time.

    Resumable: each row records its master key id, so a re-run touches only the rest; two
    runs at once skip each other's locked rows. `limit` stops after that many keys.
    """
    current = keyring().current
    report = RewrapReport(current_key_id=current.key_id)
    pending = WorkspaceDataKey.dangerously_unscoped.exclude(master_key_id=current.key_id)
    while limit is None or report.rewrapped < limit:
        size = batch_size if limit is None else min(batch_size, limit - report.rewrapped)
        with transaction.atomic():
            batch = list(pending.select_for_update(skip_locked=True).order_by("pk")[:size])
            for row in batch:
                data_key = _unwrap(row)
                row.wrapped_key = wrap_data_key(current, data_key.material, workspace_id=row.workspace_id)
                row.master_key_id = current.key_id
                row.save(update_fields=["wrapped_key", "master_key_id", "updated_at"])
                report.rewrapped += 1
                if on_rewrapped is not None:
                    on_rewrapped(row.workspace_id)
        if len(batch) < size:
            break
    report.remaining = pending.count()
    logger.info(
        "re-wrapped %d data keys under master key %r; %d remain", report.rewrapped, current.key_id, report.remaining
    )
    return report


def data_keys_by_master_key() -> dict[str, int]:
    """How many data keys each master key wraps (to know when an old key may be dropped)."""
    counts: dict[str, int] = {}
    for key_id in WorkspaceDataKey.dangerously_unscoped.values_list("master_key_id", flat=True):
        counts[key_id] = counts.get(key_id, 0) + 1
    return counts


def data_key_replace(workspace_id: uuid.UUID) -> tuple[DataKey, DataKey]:
    """Swap in a fresh data key (caller holds the row lock and re-encrypts in the same transaction)."""
    old = data_key_for(workspace_id, lock=True)
    master = keyring().current
    material = new_data_key()
    WorkspaceDataKey.dangerously_unscoped.filter(workspace_id=workspace_id).update(
        wrapped_key=wrap_data_key(master, material, workspace_id=workspace_id),
        master_key_id=master.key_id,
        generation=old.generation + 1,
    )
    return old, DataKey(workspace_id=workspace_id, generation=old.generation + 1, material=material)
