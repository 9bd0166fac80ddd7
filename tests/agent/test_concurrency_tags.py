"""Tag concurrency limits on task runs (limits named `tag:<tag>`), through a tracked flow."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from tests.agent.conftest import ControlPlane
from tests.agent.test_concurrency import active_slots, peak_overlap
from tether import flow, task
from tether.concurrency import TaskRunAborted
from tether.concurrency._leases import RENEWER


def tag_limit(plane: ControlPlane, limit: int) -> str:
    tag = f"t{uuid.uuid4().hex[:10]}"
    response = plane.http.post("concurrency-limits/", json={"name": f"tag:{tag}", "limit": limit})
    assert response.status_code == 201, response.text
    return tag


def test_tasks_with_a_limited_tag_run_at_most_limit_at_once(tracked: ControlPlane) -> None:
    tag = tag_limit(tracked, 2)
    free_tag = f"free-{uuid.uuid4().hex[:6]}"
    intervals: list[tuple[float, float]] = []
    intervals_free: list[tuple[float, float]] = []
    lock = threading.Lock()

    @task(tags=[tag, free_tag])
    def limited(i: int) -> int:
        started = time.monotonic()
        time.sleep(0.3)
        with lock:
            intervals.append((started, time.monotonic()))
        return i

    @task(tags=[free_tag])
    def unlimited(i: int) -> int:
        started = time.monotonic()
        time.sleep(0.6)
        with lock:
            intervals_free.append((started, time.monotonic()))
        return i

    @flow
    def tagged_flow() -> int:
        # Submitted first: a task waiting for a tag slot waits in a worker thread of the pool.
        second = unlimited.map(range(4))
        first = limited.map(range(8))
        total: int = sum(first.result()) + sum(second.result())
        return total

    assert tagged_flow() == sum(range(8)) + sum(range(4))
    assert peak_overlap(intervals) == 2  # never more than the limit, and the limit was used
    assert peak_overlap(intervals_free) >= 3  # a tag without a limit does not limit
    assert active_slots(tracked, f"tag:{tag}") == 0
    assert RENEWER.held() == 0

    run = tracked.latest_run("tagged-flow")
    task_runs = tracked.task_runs(run["id"])
    assert {t["state_type"] for t in task_runs} == {"COMPLETED"}
    histories = {t["id"]: (t["name"], tracked.task_states(t["id"])) for t in task_runs}
    waited = [states for name, states in histories.values() if "AwaitingConcurrencySlot" in states]
    assert waited  # 8 tasks, 2 slots: some waited, visibly
    assert all(states == ["AwaitingConcurrencySlot", "Running", "Completed"] for states in waited)
    free = [states for name, states in histories.values() if name.startswith("unlimited")]
    assert free == [["Running", "Completed"]] * 4


def test_a_tag_limit_of_zero_aborts_the_task_run(tracked: ControlPlane) -> None:
    tag = tag_limit(tracked, 0)
    ran: list[int] = []

    @task(tags=[tag])
    def never(i: int) -> int:
        ran.append(i)
        return i

    @flow
    def frozen_flow() -> str:
        state = never(1, return_state=True)
        with pytest.raises(TaskRunAborted, match=f"'tag:{tag}' is 0"):
            never.submit(2).result()
        return state.message

    message = frozen_flow()
    assert ran == []
    assert f"'tag:{tag}' is 0" in message
    run = tracked.latest_run("frozen-flow")
    task_runs = tracked.task_runs(run["id"])
    assert len(task_runs) == 2
    assert {t["state_type"] for t in task_runs} == {"CANCELLED"}
    assert all(tracked.task_states(t["id"]) == ["Cancelled"] for t in task_runs)


def test_retries_give_the_slot_back_while_waiting(tracked: ControlPlane) -> None:
    tag = tag_limit(tracked, 1)
    seen: list[float] = []

    @task(tags=[tag], retries=1, retry_delay_seconds=1.0)
    def flaky() -> str:
        seen.append(active_slots(tracked, f"tag:{tag}"))
        if len(seen) == 1:
            raise RuntimeError("first attempt fails")
        return "ok"

    @task(tags=[tag])
    def other() -> float:
        return active_slots(tracked, f"tag:{tag}")

    @flow
    def retry_flow() -> tuple[str, float]:
        future = flaky.submit()
        time.sleep(0.5)  # flaky is in its retry delay now: it holds no slot
        started = time.monotonic()
        during = other()
        assert time.monotonic() - started < 0.9
        return future.result(), during

    assert retry_flow() == ("ok", 1.0)
    assert seen == [1.0, 1.0]
    assert active_slots(tracked, f"tag:{tag}") == 0
