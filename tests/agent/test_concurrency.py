"""`tether.concurrency` against a real control plane: slots held, waited for, renewed and released."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from typing import Any

import pytest

from tests.agent.conftest import ControlPlane
from tether.concurrency import (
    AcquireConcurrencySlotTimeoutError,
    ConcurrencySlotAcquisitionError,
    concurrency,
    rate_limit,
)
from tether.concurrency import asyncio as aconcurrency
from tether.concurrency._leases import RENEWER


def make_limit(plane: ControlPlane, limit: int, **fields: Any) -> str:
    name = f"{fields.pop('prefix', 'limit')}-{uuid.uuid4().hex[:10]}"
    response = plane.http.post("concurrency-limits/", json={"name": name, "limit": limit, **fields})
    assert response.status_code == 201, response.text
    return name


def active_slots(plane: ControlPlane, name: str) -> float:
    (limit,) = plane.get("concurrency-limits/", name=name)["results"]
    return float(limit["active_slots"])


def peak_overlap(intervals: list[tuple[float, float]]) -> int:
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    running = peak = 0
    for _, change in events:
        running += change
        peak = max(peak, running)
    return peak


def test_a_held_slot_blocks_others_until_the_block_ends(tracked: ControlPlane) -> None:
    name = make_limit(tracked, 1)
    with concurrency(name):
        assert active_slots(tracked, name) == 1
        started = time.monotonic()
        with pytest.raises(AcquireConcurrencySlotTimeoutError, match=name), concurrency(name, timeout_seconds=0.5):
            pass
        assert time.monotonic() - started >= 0.5
    assert active_slots(tracked, name) == 0
    held_during: list[float] = []

    def fails_while_holding() -> None:
        with concurrency(name):
            held_during.append(active_slots(tracked, name))
            raise KeyError("released on exceptions too")

    with pytest.raises(KeyError):
        fails_while_holding()
    assert held_during == [1]
    assert active_slots(tracked, name) == 0
    assert RENEWER.held() == 0


def test_fifty_sdk_acquirers_never_exceed_a_limit_of_five(tracked: ControlPlane) -> None:
    """Issue 7, acceptance 3 (first half, through the SDK and the HTTP API)."""
    name = make_limit(tracked, 5)
    intervals: list[tuple[float, float]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def holder() -> None:
        try:
            with concurrency(name, timeout_seconds=120):
                started = time.monotonic()
                time.sleep(0.1)
                ended = time.monotonic()
            with lock:
                intervals.append((started, ended))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=holder) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    assert errors == []
    assert len(intervals) == 50
    peak = peak_overlap(intervals)
    assert peak <= 5
    assert peak >= 2  # they did overlap: the limit, not luck, kept it at five
    assert active_slots(tracked, name) == 0


def test_a_lease_held_longer_than_its_duration_is_renewed(tracked: ControlPlane) -> None:
    name = make_limit(tracked, 1)
    with concurrency(name, lease_duration=2.0):
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline:  # 2.5 lease durations
            with pytest.raises(AcquireConcurrencySlotTimeoutError), concurrency(name, max_retries=0):
                pass
            time.sleep(0.5)
        assert active_slots(tracked, name) == 1
    assert active_slots(tracked, name) == 0


def test_unknown_limits_and_impossible_requests(tracked: ControlPlane) -> None:
    missing = f"missing-{uuid.uuid4().hex[:8]}"
    name = make_limit(tracked, 2)
    with concurrency([missing, name]):  # not strict: the unknown one does not limit, the known one does
        assert active_slots(tracked, name) == 1
    with pytest.raises(ConcurrencySlotAcquisitionError, match=missing), concurrency(missing, strict=True):
        pass
    with pytest.raises(ConcurrencySlotAcquisitionError, match="can never be held"), concurrency(name, occupy=3):
        pass
    with pytest.raises(ConcurrencySlotAcquisitionError, match="slot_decay_per_second"):
        rate_limit(name)


def test_rate_limit_paces_calls_by_slot_decay(tracked: ControlPlane) -> None:
    name = make_limit(tracked, 2, slot_decay_per_second=4.0)
    started = time.monotonic()
    for _ in range(4):
        rate_limit(name)
    # Two at once, then one more every 1/4 s as the slots decay.
    assert time.monotonic() - started >= 0.4
    slow = make_limit(tracked, 1, slot_decay_per_second=0.5)
    rate_limit(slow)
    with pytest.raises(AcquireConcurrencySlotTimeoutError):
        rate_limit(slow, timeout_seconds=0.05)  # the slot takes 2 s to decay


def test_async_concurrency_waits_without_blocking_the_loop_and_frees_on_cancel(tracked: ControlPlane) -> None:
    name = make_limit(tracked, 1)

    async def scenario() -> None:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.05)
                ticks += 1

        ticking = asyncio.create_task(ticker())
        async with aconcurrency.concurrency(name):
            waiter = asyncio.create_task(aconcurrency.concurrency(name).__aenter__())
            await asyncio.sleep(1.0)
            assert not waiter.done()
            assert ticks >= 5  # the loop ran while the waiter waited
            waiter.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiter
        ticking.cancel()
        await asyncio.sleep(1.5)  # the abandoned attempt gives back anything it got meanwhile
        async with aconcurrency.concurrency(name, timeout_seconds=5):
            assert active_slots(tracked, name) == 1
        paced = make_limit(tracked, 1, slot_decay_per_second=0.1)
        await aconcurrency.rate_limit(paced)
        with pytest.raises(AcquireConcurrencySlotTimeoutError):
            await aconcurrency.rate_limit(paced, timeout_seconds=0.1)

    asyncio.run(scenario())
    assert active_slots(tracked, name) == 0


def test_without_a_control_plane_it_does_not_limit_unless_strict(untracked: Any) -> None:
    with concurrency("anything"):
        pass
    with pytest.raises(ConcurrencySlotAcquisitionError, match="TETHER_API_URL"), concurrency("x", strict=True):
        pass
