"""Issue 7, acceptance 3: global limits never exceeded under contention; dead holders free slots."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection

from controlplane.concurrency.models import ConcurrencyLease, ConcurrencyLimit
from controlplane.concurrency.services import (
    concurrency_acquire,
    concurrency_lease_release,
    concurrency_lease_renew,
    expired_leases_delete,
)
from controlplane.core.errors import Conflict, NotFound, ValidationFailed
from tests.support.clients import bearer
from tests.support.runs import PROD, in_prod
from tests.support.tenants import World, service_account_key


def _limit(world: World, name: str, limit: int, **fields: Any) -> ConcurrencyLimit:
    created: ConcurrencyLimit = ConcurrencyLimit.dangerously_unscoped.create(
        workspace=world.prod, name=name, limit=limit, **fields
    )
    return created


@pytest.mark.django_db(transaction=True)
def test_fifty_parallel_holders_never_exceed_five(world: World) -> None:
    _limit(world, "db", 5)
    intervals: list[tuple[float, float]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def holder() -> None:
        try:
            with in_prod(world):
                while True:
                    result = concurrency_acquire(workspace=world.prod, names=["db"], ttl_seconds=30)
                    if result.acquired:
                        break
                    time.sleep(result.retry_after_seconds / 5)
                started = time.monotonic()
                time.sleep(0.05)
                ended = time.monotonic()
                assert result.lease is not None
                concurrency_lease_release(lease=result.lease)
            with lock:
                intervals.append((started, ended))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=holder) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert len(intervals) == 50
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    running = peak = 0
    for _, change in events:
        running += change
        peak = max(peak, running)
    assert peak <= 5
    assert peak >= 2  # they really overlapped: the limit, not luck, kept it at five


def test_a_holder_that_dies_frees_its_slots_when_the_lease_expires(world: World) -> None:
    _limit(world, "gpu", 2)
    with in_prod(world):
        dead = concurrency_acquire(workspace=world.prod, names=["gpu"], slots=2, ttl_seconds=0.5)
        assert dead.acquired
        assert not concurrency_acquire(workspace=world.prod, names=["gpu"]).acquired
        time.sleep(0.6)
        assert concurrency_acquire(workspace=world.prod, names=["gpu"]).acquired
        assert dead.lease is not None
        with pytest.raises(Conflict, match="expired"):
            concurrency_lease_renew(lease=dead.lease, ttl_seconds=10)
    assert expired_leases_delete() == 1


def test_several_limits_are_taken_all_or_none(world: World) -> None:
    _limit(world, "a", 1)
    _limit(world, "b", 1)
    with in_prod(world):
        assert concurrency_acquire(workspace=world.prod, names=["b"]).acquired
        refused = concurrency_acquire(workspace=world.prod, names=["a", "b"])
        assert not refused.acquired
        assert refused.blocking == "b"
        assert concurrency_acquire(workspace=world.prod, names=["a"]).acquired
        with pytest.raises(NotFound):
            concurrency_acquire(workspace=world.prod, names=["nope"])
        with pytest.raises(ValidationFailed, match="can never be held"):
            concurrency_acquire(workspace=world.prod, names=["a"], slots=2)


def test_inactive_limits_do_not_limit_and_rate_limits_decay(world: World) -> None:
    _limit(world, "off", 1, active=False)
    _limit(world, "rate", 2, slot_decay_per_second=10)
    with in_prod(world):
        assert concurrency_acquire(workspace=world.prod, names=["off"]).acquired
        assert concurrency_acquire(workspace=world.prod, names=["off"]).acquired
        assert concurrency_acquire(workspace=world.prod, names=["rate"], slots=2).acquired
        refused = concurrency_acquire(workspace=world.prod, names=["rate"])
        assert not refused.acquired
        assert 0 < refused.retry_after_seconds <= 0.1
        time.sleep(0.15)
        assert concurrency_acquire(workspace=world.prod, names=["rate"]).acquired


def test_the_lease_api(world: World) -> None:
    _limit(world, "api", 1)
    _, secret = service_account_key(world.alice, world.prod, "worker", name="w")
    client = bearer(secret)
    got = client.post(f"{PROD}/concurrency-leases/", {"names": ["api"], "ttl_seconds": 30}, format="json")
    assert got.status_code == 201
    assert got.json()["acquired"] is True
    busy = client.post(f"{PROD}/concurrency-leases/", {"names": ["api"]}, format="json")
    assert busy.status_code == 200
    assert busy.json()["acquired"] is False
    lease_id = got.json()["id"]
    assert (
        client.post(f"{PROD}/concurrency-leases/{lease_id}/renew/", {"ttl_seconds": 5}, format="json").status_code
        == 200
    )
    assert client.delete(f"{PROD}/concurrency-leases/{lease_id}/").status_code == 204
    assert not ConcurrencyLease.dangerously_unscoped.exists()
    listed = client.get(f"{PROD}/concurrency-limits/").json()["results"]
    assert [(limit["name"], limit["active_slots"]) for limit in listed] == [("api", 0.0)]
