"""RELIABILITY 29: one tenant's run-creation flood → 429 with Retry-After for it; other tenants unaffected.

acme floods run creation from two keys in two threads for a few seconds while umbrella creates
runs at an ordinary pace. Proof:

- acme's flood is cut: it gets 429s with a `Retry-After`, and the runs it did create are bounded
  by its organisation's bucket (burst + rate x elapsed), so the flood costs the server cheap refusals;
- umbrella is never refused, and every one of its runs is created;
- umbrella's latency stays in the range it had without the flood. The bound is loose on purpose:
  the flood shares this process and its 2 shared cores with umbrella's requests, so only
  interference beyond sharing the CPU (queueing behind acme, locks, shared buckets) would exceed it.
"""

from __future__ import annotations

import statistics
import threading
import time
from typing import Any

import pytest
from django.db import connection
from pytest_django.fixtures import Settings

from controlplane.runs.models import FlowRun
from tests.support.clients import bearer
from tests.support.tenants import build_world, service_account_key

# Low enough that even a slow, shared machine floods past it (a create takes 50-300 ms here).
RATE = 2  # requests a second, per key and per organisation
BURST_SECONDS = 4
CALM_REQUESTS = 8  # one burst: umbrella never needs to wait for a token
FLOOD_SECONDS = 4.0


def _create(client: Any, org: str, name: str) -> tuple[int, float, str | None]:
    started = time.perf_counter()
    response = client.post(f"/api/v1/orgs/{org}/workspaces/prod/flow-runs/", {"flow_name": name}, format="json")
    return response.status_code, time.perf_counter() - started, response.get("Retry-After")


def _calm_latencies(client: Any) -> list[float]:
    answers = [_create(client, "umbrella", "calm") for _ in range(CALM_REQUESTS)]
    assert [status for status, _, _ in answers] == [201] * CALM_REQUESTS
    return [seconds for _, seconds, _ in answers]


@pytest.mark.django_db(transaction=True)
def test_a_flooding_tenant_is_cut_off_and_the_others_do_not_notice(settings: Settings) -> None:
    settings.TETHER_RATE_LIMIT_PER_CREDENTIAL = RATE
    settings.TETHER_RATE_LIMIT_PER_ORGANIZATION = RATE
    settings.TETHER_RATE_LIMIT_BURST_SECONDS = BURST_SECONDS
    world = build_world()
    flooders = [bearer(service_account_key(world.alice, world.prod, "developer", name=f"flood-{i}")[1]) for i in (1, 2)]
    calm = bearer(service_account_key(world.charlie, world.umbrella_prod, "developer", name="calm")[1])

    _calm_latencies(calm)  # warm-up: first requests pay for imports and connections
    time.sleep(BURST_SECONDS + 0.5)  # let umbrella's buckets fill again (8 tokens at 2/s)
    baseline = _calm_latencies(calm)
    time.sleep(BURST_SECONDS + 0.5)

    answers: list[tuple[int, float, str | None]] = []
    stop = threading.Event()

    def flood(client: Any) -> None:
        try:
            while not stop.is_set():
                answers.append(_create(client, "acme", "flood"))
        finally:
            connection.close()

    threads = [threading.Thread(target=flood, args=(client,)) for client in flooders]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    time.sleep(0.5)  # the flood is under way and acme's burst is spent
    during = _calm_latencies(calm)
    remaining = FLOOD_SECONDS - (time.monotonic() - started)
    if remaining > 0:
        time.sleep(remaining)
    stop.set()
    for thread in threads:
        thread.join(30)
    elapsed = time.monotonic() - started

    refused = [retry for status, _, retry in answers if status == 429]
    created = FlowRun.dangerously_unscoped.filter(workspace=world.prod).count()
    assert len(refused) >= len(answers) / 2, f"{len(answers)} flood requests, {len(refused)} refused"
    assert all(retry is not None and int(retry) >= 1 for retry in refused)
    assert {status for status, _, _ in answers} <= {201, 429}
    assert created == len(answers) - len(refused)
    assert created <= RATE * BURST_SECONDS + RATE * elapsed + 2  # the organisation's bucket, not more

    assert FlowRun.dangerously_unscoped.filter(workspace=world.umbrella_prod).count() == 3 * CALM_REQUESTS
    calm_before, calm_during = statistics.median(baseline), statistics.median(during)
    assert calm_during <= 4 * calm_before + 0.3, f"umbrella's median went from {calm_before:.3f}s to {calm_during:.3f}s"
