"""Channel-layer messages from sync code: delivered without blocking, coalesced, failures logged."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from typing import Any

import pytest
from channels.layers import get_channel_layer
from pytest_django.fixtures import Settings

from controlplane.core import channel_delivery
from controlplane.core.channel_delivery import deliver


async def _receive_all(channel: str, *, quiet_for: float) -> list[dict[str, Any]]:
    layer = get_channel_layer()
    received = []
    while True:
        try:
            received.append(await asyncio.wait_for(layer.receive(channel), quiet_for))
        except TimeoutError:
            return received


def _listen_while(send: Any, *, quiet_for: float = 1.5) -> list[dict[str, Any]]:
    async def scenario() -> list[dict[str, Any]]:
        layer = get_channel_layer()
        group = f"test.{uuid.uuid4().hex}"
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        sender = threading.Thread(target=send, args=(group,))
        sender.start()
        await asyncio.to_thread(sender.join)
        return await _receive_all(channel, quiet_for=quiet_for)

    return asyncio.run(scenario())


def test_a_plain_thread_delivers_through_the_background_loop() -> None:
    started = time.perf_counter()
    timings: list[float] = []

    def send(group: str) -> None:
        deliver(group, {"type": "test.hello", "n": 1})
        timings.append(time.perf_counter() - started)

    received = _listen_while(send)
    assert received == [{"type": "test.hello", "n": 1}]
    assert timings[0] < 0.5  # the caller did not wait for Redis


def test_identical_messages_waiting_to_be_sent_are_sent_once() -> None:
    def send(group: str) -> None:
        gate = threading.Event()
        channel_delivery._background().call_soon_threadsafe(gate.wait, 2)  # hold the loop busy
        for _ in range(50):
            deliver(group, {"type": "test.wake", "pool": "p"})
        deliver(group, {"type": "test.wake", "pool": "q"})
        gate.set()

    received = _listen_while(send)
    assert sorted(message["pool"] for message in received) == ["p", "q"]


def test_a_failed_send_is_logged_never_raised(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "tests.support.broken_layer.BrokenChannelLayer"}}
    with caplog.at_level(logging.WARNING, logger="controlplane.core.channel_delivery"):
        deliver("test.group", {"type": "test.lost"})
        deadline = time.monotonic() + 5
        while "not delivered" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)
    assert "test.lost to test.group not delivered" in caplog.text
    assert not channel_delivery._pending  # a later identical message is not swallowed


def test_a_burst_of_distinct_messages_is_sent_with_a_bounded_number_in_flight(settings: Settings) -> None:
    from tests.support.broken_layer import SlowChannelLayer

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "tests.support.broken_layer.SlowChannelLayer"}}
    SlowChannelLayer.in_flight = SlowChannelLayer.most_in_flight = SlowChannelLayer.sent = 0
    for n in range(500):
        deliver(f"test.burst.{n}", {"type": "test.wake", "n": n})
    deadline = time.monotonic() + 30
    while SlowChannelLayer.sent < 500 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert SlowChannelLayer.sent == 500  # queued, not dropped
    assert SlowChannelLayer.most_in_flight == channel_delivery.MAX_SENDS_IN_FLIGHT
