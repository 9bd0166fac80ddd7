"""The lease API for run tokens (a flow's `concurrency()`), and rate limits through it."""

from __future__ import annotations

import time
from typing import Any

import pytest

from controlplane.concurrency.models import ConcurrencyLease, ConcurrencyLimit
from tests.controlplane.workpools.test_dispatch_support import Fleet, claim, due_run, hello, make_fleet
from tests.support.clients import bearer
from tests.support.runs import PROD
from tests.support.tenants import World, service_account_key

LEASES = f"{PROD}/concurrency-leases/"


@pytest.fixture
def fleet(world: World) -> Fleet:
    ConcurrencyLimit.dangerously_unscoped.create(workspace=world.prod, name="db", limit=2)
    return make_fleet(world)


def _run_token_client(fleet: Fleet) -> tuple[Any, dict[str, Any]]:
    due_run(fleet)
    (claimed,) = claim(fleet, hello(fleet, name=f"agent-{time.monotonic_ns()}"), capacity=1)
    return bearer(claimed["run_token"]), claimed


def test_a_run_token_acquires_renews_and_releases_its_own_lease(fleet: Fleet) -> None:
    client, claimed = _run_token_client(fleet)
    got = client.post(LEASES, {"names": ["db"], "ttl_seconds": 30, "holder": "flow"}, format="json")
    assert got.status_code == 201, got.content
    lease = ConcurrencyLease.dangerously_unscoped.get(pk=got.json()["id"])
    assert str(lease.flow_run_id) == claimed["flow_run"]["id"]
    assert client.post(f"{LEASES}{lease.pk}/renew/", {"ttl_seconds": 30}, format="json").status_code == 200
    assert client.delete(f"{LEASES}{lease.pk}/").status_code == 204
    assert not ConcurrencyLease.dangerously_unscoped.exists()


def test_a_run_token_cannot_touch_leases_it_did_not_acquire(fleet: Fleet) -> None:
    first, _ = _run_token_client(fleet)
    second, _ = _run_token_client(fleet)
    theirs = first.post(LEASES, {"names": ["db"]}, format="json").json()["id"]
    _, secret = service_account_key(fleet.world.alice, fleet.world.prod, "developer", name="dev")
    by_key = bearer(secret).post(LEASES, {"names": ["db"]}, format="json").json()["id"]
    for lease_id in (theirs, by_key):
        assert second.post(f"{LEASES}{lease_id}/renew/", {"ttl_seconds": 30}, format="json").status_code == 404
        assert second.delete(f"{LEASES}{lease_id}/").status_code == 404
    assert ConcurrencyLease.dangerously_unscoped.count() == 2
    # Limits themselves stay out of a run token's reach.
    assert second.post(f"{PROD}/concurrency-limits/", {"name": "x", "limit": 1}, format="json").status_code == 403


def test_rate_limit_mode_takes_decaying_slots_without_a_lease(world: World) -> None:
    ConcurrencyLimit.dangerously_unscoped.create(workspace=world.prod, name="api", limit=2, slot_decay_per_second=5)
    ConcurrencyLimit.dangerously_unscoped.create(workspace=world.prod, name="steady", limit=2)
    _, secret = service_account_key(world.alice, world.prod, "developer", name="dev")
    client = bearer(secret)
    for _ in range(2):
        taken = client.post(LEASES, {"names": ["api"], "mode": "rate_limit"}, format="json")
        assert (taken.status_code, taken.json()) == (200, {"acquired": True})
    refused = client.post(LEASES, {"names": ["api"], "mode": "rate_limit"}, format="json").json()
    assert refused["acquired"] is False
    assert 0 < refused["retry_after_seconds"] <= 0.2
    assert not ConcurrencyLease.dangerously_unscoped.exists()
    steady = client.post(LEASES, {"names": ["steady"], "mode": "rate_limit"}, format="json")
    assert steady.status_code == 422
    assert steady.json()["error"]["details"]["names"] == ["steady"]
