"""Run tokens (`tether_run_…`): the credential of one flow run's process.

An agent gets one per run it claims and hands it to the run's process instead of its own
key. The token is a restricted principal:

- it works only in its workspace (anything else answers 404, like a missing workspace);
- its scopes are fixed (`RUN_TOKEN_SCOPES`): read the workspace, report runs, emit
  events, create flow runs — but only subflow runs of its own run —, queue background task
  runs (`task.delay()` inside a flow) and hold slots of
  concurrency limits (leases it renews and releases only if its run acquired them);
- every write it makes may only concern its own flow run and that run's subflow runs
  (`confine_run_token`): another run's id answers 404, and a write of a kind a run never
  needs (cancel, delete, pools, deployments…) answers 403;
- it works only while the claim that minted it holds (`run_token_is_live`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from django.utils import timezone

from controlplane.apikeys.models import RunToken
from controlplane.apikeys.tokens import ParsedKey, matches
from controlplane.core.errors import Forbidden, NotFound
from controlplane.orgs.roles import Scope
from controlplane.runs.models import FlowRun, TaskRun
from controlplane.workpools.dispatch.leases import LEASED_TYPES
from controlplane.workpools.dispatch.timings import dispatch_timings

RUN_TOKEN_SCOPES = frozenset(
    {Scope.WORKSPACE_READ, Scope.RUNS_REPORT, Scope.EVENTS_WRITE, Scope.RUNS_WRITE, Scope.BLOCKS_REVEAL}
)
# Subflows nest; a chain deeper than this is not a run's own.
_MAX_SUBFLOW_DEPTH = 32
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def run_token_is_live(token: RunToken, *, now: datetime | None = None) -> bool:
    """A token works while its claim holds: same epoch and holder, lease (+ grace) not over, run not finished."""
    run = token.flow_run
    now = now or timezone.now()
    return (
        token.revoked_at is None
        and token.agent_id is not None
        and run.epoch == token.epoch
        and run.lease_owner == token.agent_id
        and run.state_type in LEASED_TYPES
        and run.lease_expires_at is not None
        and run.lease_expires_at + dispatch_timings().token_grace > now
    )


def run_token_authenticate(token: str, parsed: ParsedKey) -> RunToken | None:
    found: RunToken | None = (
        RunToken.dangerously_unscoped.select_related("flow_run").filter(prefix=parsed.lookup_prefix).first()
    )
    if found is None or not matches(token, found.secret_hash) or not run_token_is_live(found):
        return None
    return found


# --- confinement -------------------------------------------------------------------------


def _as_uuid(value: Any) -> uuid.UUID | None:
    """Read an id the way the API's UUID fields do (a string or an integer); None if it is not one."""
    try:
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return uuid.UUID(int=value)
        if isinstance(value, str):
            return uuid.UUID(hex=value)
    except ValueError:
        return None
    return None


def _ids(values: Iterable[Any]) -> set[uuid.UUID]:
    return {found for found in map(_as_uuid, values) if found is not None}


def _entries(data: Any, key: str | None = None) -> list[Mapping[str, Any]]:
    items = data.get(key) if key and isinstance(data, Mapping) else data
    if isinstance(items, Mapping):
        items = [items]
    if not isinstance(items, list):
        return []
    return [item for item in items if isinstance(item, Mapping)]


def _flow_runs_outside_tree(root: uuid.UUID, flow_run_ids: set[uuid.UUID]) -> set[uuid.UUID]:
    """The ids that are neither `root` nor a (nested) subflow run of it."""
    outside: set[uuid.UUID] = set()
    # Walk up from every candidate at once: candidate → its current ancestor.
    frontier = {run_id: run_id for run_id in flow_run_ids if run_id != root}
    for _ in range(_MAX_SUBFLOW_DEPTH):
        if not frontier:
            return outside
        parents = dict(
            FlowRun.objects.filter(pk__in=set(frontier.values())).values_list("id", "parent_task_run__flow_run_id")
        )
        next_frontier = {}
        for candidate, ancestor in frontier.items():
            parent = parents.get(ancestor)
            if parent == root:
                continue
            if parent is None:
                outside.add(candidate)
            else:
                next_frontier[candidate] = parent
        frontier = next_frontier
    return outside | set(frontier)


def _task_runs_flow_runs(task_run_ids: set[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID | None]:
    return dict(TaskRun.objects.filter(pk__in=task_run_ids).values_list("id", "flow_run_id"))


def _require_within(root: uuid.UUID, flow_run_ids: set[uuid.UUID], task_run_ids: set[uuid.UUID]) -> None:
    owners = _task_runs_flow_runs(task_run_ids) if task_run_ids else {}
    if any(owners.get(task_run_id) is None for task_run_id in task_run_ids):
        raise NotFound("Task run not found.")
    runs = flow_run_ids | {owner for owner in owners.values() if owner is not None}
    if _flow_runs_outside_tree(root, runs):
        raise NotFound("Flow run not found.")


_Targets = tuple[set[uuid.UUID], set[uuid.UUID]]  # (flow run ids, task run ids) a write concerns


def _set_state(data: Any, kwargs: Mapping[str, Any]) -> _Targets:
    return _ids([str(kwargs.get("pk", ""))]), set()


def _subflow_create(data: Any, kwargs: Mapping[str, Any]) -> _Targets:
    parent = _as_uuid(data.get("parent_task_run_id")) if isinstance(data, Mapping) else None
    if parent is None:
        raise Forbidden("A run token creates only subflow runs of its own run (with parent_task_run_id).")
    return set(), {parent}


def _task_run_batch(data: Any, kwargs: Mapping[str, Any]) -> _Targets:
    entries = _entries(data, "task_runs")
    flow_runs = _ids(entry.get("flow_run_id") for entry in entries if entry.get("flow_run_id") is not None)
    introduced = _ids(entry.get("id") for entry in entries if entry.get("flow_run_id") is not None)
    task_runs = _ids(entry.get("id") for entry in entries)
    # A task run that exists counts by the flow run it belongs to, whatever an entry claims;
    # one that does not must be introduced with its flow run in this batch.
    owners = _task_runs_flow_runs(task_runs) if task_runs else {}
    if task_runs - introduced - set(owners):
        raise NotFound("Task run not found.")
    return flow_runs | {owner or uuid.UUID(int=0) for owner in owners.values()}, set()


def _logs(data: Any, kwargs: Mapping[str, Any]) -> _Targets:
    return _ids(entry.get("flow_run_id") for entry in _entries(data)), set()


def _artifact(data: Any, kwargs: Mapping[str, Any]) -> _Targets:
    entry = data if isinstance(data, Mapping) else {}
    flow_run = _as_uuid(entry.get("flow_run_id"))
    if flow_run is None:
        raise Forbidden("An artifact published with a run token must name its flow_run_id.")
    task_run = _as_uuid(entry.get("task_run_id"))
    return {flow_run}, {task_run} if task_run else set()


_RUN_RESOURCE_PREFIXES = {"tether.flow-run.": "flow", "tether.task-run.": "task"}


def _events(data: Any, kwargs: Mapping[str, Any]) -> _Targets:
    """`emit_event` from a run: the runs an event names (resource or related) must be of the token's tree.

    Automations act on the runs an event names, so a run must not speak for another run.
    """
    items = _entries(data, "events")
    flow_runs: set[uuid.UUID] = set()
    task_runs: set[uuid.UUID] = set()
    for item in items:
        related = item.get("related")
        labels = [item.get("resource"), *(related if isinstance(related, list) else [])]
        for label in labels:
            resource_id = label.get("tether.resource.id") if isinstance(label, Mapping) else None
            if not isinstance(resource_id, str):
                continue
            for prefix, kind in _RUN_RESOURCE_PREFIXES.items():
                if resource_id.startswith(prefix):
                    named = _as_uuid(resource_id[len(prefix) :])
                    if named is None:
                        raise NotFound("Flow run not found." if kind == "flow" else "Task run not found.")
                    (flow_runs if kind == "flow" else task_runs).add(named)
    # Task runs reach the server in batches, after the event may have been sent: an id not
    # recorded yet names nothing and passes; a recorded one counts by its flow run.
    owners = _task_runs_flow_runs(task_runs) if task_runs else {}
    return flow_runs | {owner or uuid.UUID(int=0) for owner in owners.values()}, set()


def _lease_acquire(data: Any, kwargs: Mapping[str, Any]) -> _Targets:
    # Acquiring concerns no other run: the lease is recorded as the token's own run's.
    return set(), set()


def _background_task_queue(data: Any, kwargs: Mapping[str, Any]) -> _Targets:
    # `task.delay()` inside a flow: a new background run of the workspace, which no run owns;
    # the worker that claims it runs it with its own key, never with this token.
    return set(), set()


def _lease_of_the_run(data: Any, kwargs: Mapping[str, Any]) -> _Targets:
    """Renewing or releasing a lease concerns the run that acquired it (leases acquired otherwise: 404)."""
    from controlplane.concurrency.models import ConcurrencyLease

    lease_id = _as_uuid(str(kwargs.get("pk", "")))
    owner = (
        ConcurrencyLease.objects.filter(pk=lease_id).values_list("flow_run_id", flat=True).first() if lease_id else None
    )
    if owner is None:
        raise NotFound("Concurrency lease not found.")
    return {owner}, set()


def _block_reveal(token: RunToken, kwargs: Mapping[str, Any]) -> None:
    from controlplane.blocks.references import run_may_reveal

    if not run_may_reveal(token.flow_run, _as_uuid(str(kwargs.get("pk", "")))):
        raise NotFound("Block not found.")


# (view basename, action) → a check of what a POST that only reads may read. Listed here, not
# in RUN_TOKEN_WRITES, because what it concerns is not a run but something the run references.
RUN_TOKEN_READS: dict[tuple[str, str], Callable[[RunToken, Mapping[str, Any]], None]] = {
    # Only blocks its run's deployment references (source.credentials_block, job_variables).
    ("blocks", "reveal"): _block_reveal,
}


# (view basename, action) → the runs a write concerns. A write not listed is refused.
RUN_TOKEN_WRITES: dict[tuple[str, str], Callable[[Any, Mapping[str, Any]], _Targets]] = {
    ("flow-runs", "set_state"): _set_state,
    ("flow-runs", "create"): _subflow_create,
    ("task-runs", "batch"): _task_run_batch,
    ("logs", "create"): _logs,
    ("artifacts", "create"): _artifact,
    ("events", "create"): _events,
    ("background-tasks", "create"): _background_task_queue,
    # `concurrency()` and tag limits inside a flow: slots of the workspace's limits.
    ("concurrency-leases", "create"): _lease_acquire,
    ("concurrency-leases", "renew"): _lease_of_the_run,
    ("concurrency-leases", "destroy"): _lease_of_the_run,
}


def confine_run_token(
    token: RunToken, *, method: str, basename: str | None, action: str | None, data: Any, kwargs: Mapping[str, Any]
) -> None:
    """Refuse a run token's write unless every run it concerns is the token's run or a subflow of it."""
    if method in _SAFE_METHODS:
        return
    read = RUN_TOKEN_READS.get((basename or "", action or ""))
    if read is not None:
        read(token, kwargs)
        return
    targets = RUN_TOKEN_WRITES.get((basename or "", action or ""))
    if targets is None:
        raise Forbidden("A run token cannot do this; it only reports its own run.")
    flow_run_ids, task_run_ids = targets(data, kwargs)
    _require_within(token.flow_run_id, flow_run_ids, task_run_ids)
