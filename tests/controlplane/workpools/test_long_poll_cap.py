"""The per-process cap on waiting claims: beyond it an agent's long-poll answers at once.

Long-polls sleep on the web process's HTTP threads; `TETHER_LONG_POLLS_PER_PROCESS` bounds how
many do at once (controlplane/core/long_polls.py). These run against real PostgreSQL with
committed data: each waiting claim is a thread with its own database connection.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import connection
from pytest_django.fixtures import Settings

from controlplane.core.long_polls import LONG_POLLS, REFUSED_RETRY_SECONDS, LongPollCap
from tests.controlplane.workpools.test_dispatch_support import AGENTS, Fleet, due_run, hello, make_fleet
from tests.support.clients import bearer
from tests.support.tenants import World, build_world

# A refused long-poll answers within this; a waiting one takes its whole wait (several seconds).
PROMPT_SECONDS = 1.5


@pytest.fixture
def committed_world(transactional_db: None) -> World:
    return build_world()


@pytest.fixture
def one_long_poll(settings: Settings) -> None:
    settings.TETHER_LONG_POLLS_PER_PROCESS = 1


def claim_answer(fleet: Fleet, agent_id: str, wait_seconds: float) -> tuple[dict[str, Any], float]:
    """The claim's JSON answer and how long it took."""
    started = time.monotonic()
    response = bearer(fleet.worker_secret).post(
        f"{AGENTS}/{agent_id}/claim/", {"capacity": 1, "wait_seconds": wait_seconds}, format="json"
    )
    elapsed = time.monotonic() - started
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body, elapsed


@dataclass
class WaitingClaim:
    """A long-poll claim on its own thread (and database connection), as on the server's HTTP threads."""

    fleet: Fleet
    agent_id: str
    wait_seconds: float
    answer: dict[str, Any] = field(default_factory=dict)
    elapsed: float = 0.0

    def __post_init__(self) -> None:
        self._thread = threading.Thread(target=self._claim)
        self._thread.start()

    def _claim(self) -> None:
        try:
            self.answer, self.elapsed = claim_answer(self.fleet, self.agent_id, self.wait_seconds)
        finally:
            connection.close()

    def join(self) -> None:
        self._thread.join(self.wait_seconds + 30)
        assert not self._thread.is_alive()


def until_waiting(count: int) -> None:
    deadline = time.monotonic() + 10
    while LONG_POLLS.waiting != count:
        assert time.monotonic() < deadline, f"{LONG_POLLS.waiting} claims waiting, not {count}"
        time.sleep(0.01)


@pytest.mark.usefixtures("one_long_poll")
def test_a_long_poll_beyond_the_cap_answers_at_once_and_says_when_to_come_back(committed_world: World) -> None:
    fleet = make_fleet(committed_world)
    first, second = hello(fleet, "agent-1"), hello(fleet, "agent-2")

    holder = WaitingClaim(fleet, first, wait_seconds=3.0)
    until_waiting(1)
    refused, refused_in = claim_answer(fleet, second, wait_seconds=20)
    holder.join()

    assert refused["runs"] == []
    low, high = REFUSED_RETRY_SECONDS
    assert low <= refused["retry_after_seconds"] <= high
    assert refused_in < PROMPT_SECONDS
    assert (holder.answer["runs"], holder.answer["retry_after_seconds"]) == ([], 0)
    assert holder.elapsed >= 2.9
    # The place is free again: the next long-poll waits out its time.
    assert LONG_POLLS.waiting == 0
    waited, waited_in = claim_answer(fleet, second, wait_seconds=1.2)
    assert (waited["runs"], waited["retry_after_seconds"]) == ([], 0)
    assert waited_in >= 1.1


@pytest.mark.usefixtures("one_long_poll")
def test_a_long_poll_refused_its_wait_still_claims_what_is_due(committed_world: World) -> None:
    busy = make_fleet(committed_world)
    other = make_fleet(committed_world, pool_name="other")
    holder = WaitingClaim(other, hello(other), wait_seconds=3.0)
    until_waiting(1)
    run = due_run(busy)

    answer, elapsed = claim_answer(busy, hello(busy), wait_seconds=20)
    holder.join()

    assert [item["flow_run"]["id"] for item in answer["runs"]] == [str(run.pk)]
    assert answer["retry_after_seconds"] == 0
    assert elapsed < PROMPT_SECONDS
    assert holder.answer["runs"] == []


def test_a_claim_without_wait_never_takes_a_place(committed_world: World, settings: Settings) -> None:
    settings.TETHER_LONG_POLLS_PER_PROCESS = 1
    fleet = make_fleet(committed_world)
    agent_id = hello(fleet)
    holder = WaitingClaim(fleet, agent_id, wait_seconds=2.0)
    until_waiting(1)

    answer, _ = claim_answer(fleet, agent_id, wait_seconds=0)
    holder.join()

    assert (answer["runs"], answer["retry_after_seconds"]) == ([], 0)


def test_the_cap_admits_up_to_its_limit_and_frees_a_place_when_a_wait_ends(settings: Settings) -> None:
    settings.TETHER_LONG_POLLS_PER_PROCESS = 2
    cap = LongPollCap()
    with cap.try_enter() as first, cap.try_enter() as second:
        with cap.try_enter() as third:
            assert (first, second, third) == (True, True, False)
            assert cap.waiting == 2
        assert cap.waiting == 2  # a refused entry held nothing
    assert cap.waiting == 0

    def fail_while_waiting() -> None:
        with cap.try_enter() as admitted:
            assert admitted
            raise RuntimeError("the claim failed while it waited")

    with pytest.raises(RuntimeError):
        fail_while_waiting()
    assert cap.waiting == 0
