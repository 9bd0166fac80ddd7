"""Acquiring, renewing and releasing slots of global concurrency limits.

Acquisition locks the named limits in primary-key order (so two acquirers never deadlock)
and counts occupancy from live leases; an expired lease simply stops counting, so a holder
that was killed frees its slots when its lease runs out.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from controlplane.concurrency.models import ConcurrencyLease, ConcurrencyLimit
from controlplane.core.errors import Conflict, NotFound, ValidationFailed, unique_or_conflict
from controlplane.orgs.models import Workspace

MAX_LEASE_SECONDS = 3600
# When slots are held by leases, how soon a refused acquirer should ask again.
LEASED_RETRY_SECONDS = 0.25

AcquireMode = Literal["concurrency", "rate_limit"]


@dataclass(frozen=True)
class Acquisition:
    acquired: bool
    lease: ConcurrencyLease | None = None
    retry_after_seconds: float = 0.0
    blocking: str = ""


def occupancy(limit: ConcurrencyLimit, now: datetime) -> float:
    if limit.slot_decay_per_second > 0:
        if limit.decayed_at is None:
            return 0.0
        elapsed = (now - limit.decayed_at).total_seconds()
        return max(0.0, limit.decaying_slots - limit.slot_decay_per_second * elapsed)
    held = limit.leases.filter(expires_at__gt=now).aggregate(total=Sum("slots"))["total"]
    return float(held or 0)


def _check_ttl(ttl_seconds: float) -> timedelta:
    if not 0 < ttl_seconds <= MAX_LEASE_SECONDS:
        raise ValidationFailed(
            f"A lease lasts more than 0 and at most {MAX_LEASE_SECONDS} seconds; renew it to hold longer.",
            details={"ttl_seconds": ttl_seconds},
        )
    return timedelta(seconds=ttl_seconds)


@transaction.atomic
def concurrency_acquire(
    *,
    workspace: Workspace,
    names: list[str],
    slots: int = 1,
    ttl_seconds: float = 60,
    holder: str = "",
    mode: AcquireMode = "concurrency",
    flow_run_id: uuid.UUID | None = None,
) -> Acquisition:
    """Take `slots` of every named limit at once, or none. Inactive limits do not limit.

    In `rate_limit` mode every active limit must decay; the slots are taken and left to decay,
    so no lease is created.
    """
    ttl = _check_ttl(ttl_seconds)
    limits = list(ConcurrencyLimit.objects.select_for_update().filter(name__in=set(names)).order_by("pk"))
    missing = sorted(set(names) - {limit.name for limit in limits})
    if missing:
        raise NotFound("Unknown concurrency limits.", details={"names": missing})
    now = timezone.now()
    active = [limit for limit in limits if limit.active]
    if mode == "rate_limit":
        steady = sorted(limit.name for limit in active if limit.slot_decay_per_second <= 0)
        if steady:
            raise ValidationFailed(
                "A rate limit needs slot_decay_per_second > 0 on every limit it names.", details={"names": steady}
            )
    for limit in active:
        if slots > limit.limit:
            raise ValidationFailed(
                f"{limit.name!r} has {limit.limit} slots; {slots} can never be held at once.",
                details={"name": limit.name, "limit": limit.limit},
            )
        taken = occupancy(limit, now)
        if taken + slots > limit.limit:
            wait = (
                (taken + slots - limit.limit) / limit.slot_decay_per_second
                if limit.slot_decay_per_second > 0
                else LEASED_RETRY_SECONDS
            )
            return Acquisition(acquired=False, retry_after_seconds=round(wait, 3), blocking=limit.name)
    for limit in active:
        if limit.slot_decay_per_second > 0:
            limit.decaying_slots = occupancy(limit, now) + slots
            limit.decayed_at = now
            limit.save(update_fields=["decaying_slots", "decayed_at", "updated_at"])
    if mode == "rate_limit":
        return Acquisition(acquired=True)
    lease = ConcurrencyLease.objects.create(
        workspace=workspace, slots=slots, expires_at=now + ttl, holder=holder, flow_run_id=flow_run_id
    )
    lease.limits.set(active)
    return Acquisition(acquired=True, lease=lease)


@transaction.atomic
def concurrency_lease_renew(*, lease: ConcurrencyLease, ttl_seconds: float) -> ConcurrencyLease:
    ttl = _check_ttl(ttl_seconds)
    locked = ConcurrencyLease.objects.select_for_update().get(pk=lease.pk)
    now = timezone.now()
    if locked.expires_at <= now:
        raise Conflict("The lease expired; its slots may be held by someone else now. Acquire again.")
    locked.expires_at = now + ttl
    locked.save(update_fields=["expires_at", "updated_at"])
    return locked


@transaction.atomic
def concurrency_lease_release(*, lease: ConcurrencyLease) -> None:
    """Free the slots (a rate limit's slots free themselves as they decay)."""
    lease.delete()


@transaction.atomic
def concurrency_limit_create(*, workspace: Workspace, name: str, **fields: Any) -> ConcurrencyLimit:
    with unique_or_conflict(f"A concurrency limit named {name!r} already exists.", field="name"):
        limit: ConcurrencyLimit = ConcurrencyLimit.objects.create(workspace=workspace, name=name, **fields)
    return limit


@transaction.atomic
def concurrency_limit_update(*, limit: ConcurrencyLimit, **changes: Any) -> ConcurrencyLimit:
    for field, value in changes.items():
        setattr(limit, field, value)
    with unique_or_conflict(f"A concurrency limit named {limit.name!r} already exists.", field="name"):
        limit.save(update_fields=[*changes, "updated_at"])
    return limit


@transaction.atomic
def concurrency_limit_delete(*, limit: ConcurrencyLimit) -> None:
    limit.delete()


def expired_leases_delete() -> int:
    """Housekeeping: drop leases that no longer count (cross-workspace, so unscoped)."""
    _, by_model = ConcurrencyLease.dangerously_unscoped.filter(expires_at__lte=timezone.now()).delete()
    return by_model.get(ConcurrencyLease._meta.label, 0)
