from __future__ import annotations

import threading

import pytest

from controlplane.services.runner import InProcessServiceRunner, PeriodicService


@pytest.mark.django_db
def test_runner_ticks_each_service_and_survives_a_failing_one() -> None:
    ticks: list[str] = []
    twice = threading.Event()

    def good() -> None:
        ticks.append("good")
        if ticks.count("good") >= 2:
            twice.set()

    def broken() -> None:
        ticks.append("broken")
        raise RuntimeError("boom")

    runner = InProcessServiceRunner(
        [PeriodicService("good", 0.05, good), PeriodicService("broken", 0.05, broken)], resolution_seconds=0.01
    )
    runner.start()
    try:
        assert twice.wait(5), "the good service did not tick twice"
    finally:
        runner.stop()
    assert ticks.count("broken") >= 1
    count_after_stop = len(ticks)
    threading.Event().wait(0.2)
    assert len(ticks) == count_after_stop, "services kept running after stop()"
