"""Tag concurrency limits of task runs (Prefect's semantics, as limits named `tag:<tag>`).

A task run tagged `db` holds one slot of the limit `tag:db` (if it exists and is active) from
the moment it starts RUNNING until it leaves RUNNING (finished, failed, awaiting a retry), and
waits for a slot — shown as `AwaitingConcurrencySlot` — while the limit is full. A limit of 0
aborts the task run: it never runs and ends CANCELLED.

Cost: nothing for a task without tags. The workspace's tag limits are fetched once per flow run
(the first time a tagged task starts); a tagged task whose tags have no limit then pays a dict
lookup. Only a task with limited tags makes round trips (acquire, release), and its lease is
renewed in the background, so a killed process frees its slots when the lease runs out.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, cast

from tether._api import Client
from tether.concurrency._errors import AcquireConcurrencySlotTimeoutError, TaskRunAborted
from tether.concurrency._leases import Lease, acquire, release
from tether.states import Cancelled, State

if TYPE_CHECKING:
    from tether._reporter import Reporter
    from tether._task_engine import TaskRunEngine

TAG_LIMIT_PREFIX = "tag:"
_logger = logging.getLogger("tether.concurrency")
_FLOW_RUNS_REMEMBERED = 64
_limits_by_flow_run: OrderedDict[str, dict[str, int]] = OrderedDict()
_limits_lock = threading.Lock()


def _fetch_tag_limits(client: Client) -> dict[str, int]:
    limits: dict[str, int] = {}
    page: Any = client.get("concurrency-limits/", params={"name_prefix": TAG_LIMIT_PREFIX, "page_size": 200})
    while True:
        for limit in page["results"]:
            if limit["active"]:
                limits[limit["name"].removeprefix(TAG_LIMIT_PREFIX)] = int(limit["limit"])
        if not page.get("next"):
            return limits
        page = client.get(page["next"])


def tag_limits(client: Client, flow_run_id: str) -> dict[str, int]:
    """The active tag limits of the workspace ({tag: slots}), fetched once per flow run."""
    with _limits_lock:  # held while fetching: parallel tasks of a new flow run wait for one request
        found = _limits_by_flow_run.get(flow_run_id)
        if found is None:
            found = _limits_by_flow_run[flow_run_id] = _fetch_tag_limits(client)
            while len(_limits_by_flow_run) > _FLOW_RUNS_REMEMBERED:
                _limits_by_flow_run.popitem(last=False)
        return found


def guard_tag_limits(engine: TaskRunEngine) -> State | None:
    """Called once per task run before it starts. A returned state is final (limit 0): do not run.

    Otherwise, if some of its tags are limited, the engine's reporter is wrapped so that the
    task holds their slots exactly while it is RUNNING.
    """
    flow_ctx = engine.flow_ctx
    if flow_ctx is None or flow_ctx.client is None or engine.reporter is None:
        return None
    limits = tag_limits(flow_ctx.client, flow_ctx.flow_run.id)
    limited = sorted({tag for tag in engine.run.tags if tag in limits})
    if not limited:
        return None
    zero = [tag for tag in limited if limits[tag] == 0]
    if zero:
        names = ", ".join(repr(TAG_LIMIT_PREFIX + tag) for tag in zero)
        message = f"Aborted: the concurrency limit {names} is 0, so task runs tagged {', '.join(zero)} never run."
        _logger.warning("Task run %r: %s", engine.run.name, message)
        return Cancelled(message=message, data=TaskRunAborted(message))
    names_held = [TAG_LIMIT_PREFIX + tag for tag in limited]
    slots = TagSlotReporter(engine.reporter, flow_ctx.client, names_held, holder=f"task-run:{engine.run.id}")
    # A stand-in that forwards everything (see __getattr__); typed as what it stands in for.
    engine.reporter = cast("Reporter", slots)
    return None


class TagSlotReporter:
    """Stands in for the flow run's reporter in one task run's engine: before the task's RUNNING
    entry goes out it takes the tag slots (waiting while one is full); once the task leaves
    RUNNING it gives them back."""

    def __init__(self, reporter: Reporter, client: Client, names: list[str], *, holder: str) -> None:
        self._reporter = reporter
        self._client = client
        self._names = names
        self._holder = holder
        self._lease: Lease | None = None

    def report_task_run(self, entry: dict[str, Any]) -> None:
        running = entry["state"]["type"] == "RUNNING"
        if running and self._lease is None:
            self._lease = self._take_slots(entry)
        self._reporter.report_task_run(entry)
        if not running and self._lease is not None:
            lease, self._lease = self._lease, None
            release(lease)

    def _take_slots(self, entry: dict[str, Any]) -> Lease | None:
        try:
            return acquire(self._client, self._names, max_retries=0, holder=self._holder)
        except AcquireConcurrencySlotTimeoutError as full:
            waiting = copy.copy(entry)
            message = f"Waiting for a slot: {full}"
            waiting["state"] = {"type": "SCHEDULED", "name": "AwaitingConcurrencySlot", "message": message}
            self._reporter.report_task_run(waiting)
        return acquire(self._client, self._names, holder=self._holder)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reporter, name)
