"""What every chaos scenario checks afterwards: the history obeys the rules, no log line is lost.

The history check reuses the orchestration rules' own from/to tables (controlplane/runs/
orchestration/rules.py), so it cannot drift from what the server enforces.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import pairwise
from typing import Any

from controlplane.runs.orchestration.context import StateSpec
from controlplane.runs.orchestration.rules import (
    CancellingOnlyEndsCancelled,
    PreventDuplicateSubmission,
    TerminalStatesAreFinal,
)
from controlplane.runs.states import LATE, NAMED_STATE_TYPES, StateType
from tests.e2e.agent_support import Server


def _spec(state: dict[str, Any]) -> StateSpec:
    return StateSpec(type=state["type"], name=state["name"], details=state.get("details") or {})


def _broken_rule(before: StateSpec, after: StateSpec) -> str | None:
    if after.name in NAMED_STATE_TYPES and NAMED_STATE_TYPES[after.name] != after.type:
        return "a named state with the wrong type"
    if before.same_as(after):
        return "a duplicate transition"
    if before.type in TerminalStatesAreFinal.from_types and after.type != StateType.SCHEDULED:
        return "a final state left other than by a rerun"
    submitted, submission = PreventDuplicateSubmission.from_types, PreventDuplicateSubmission.to_types
    assert submitted is not None
    assert submission is not None
    if before.type in submitted and after.type in submission:
        return "a second submission"
    assert CancellingOnlyEndsCancelled.from_types is not None
    if before.type in CancellingOnlyEndsCancelled.from_types and after.type != StateType.CANCELLED:
        return "CANCELLING ended other than CANCELLED"
    if after.name == LATE and before.type != StateType.SCHEDULED:
        return "Late from a state other than SCHEDULED"
    return None


def states(server: Server, run_id: str) -> list[dict[str, Any]]:
    history: list[dict[str, Any]] = server.get(f"flow-runs/{run_id}/states/")
    return history


def assert_history_obeys_rules(server: Server, run_id: str) -> list[str]:
    """Every consecutive pair of the run's stored states is a transition the rules allow; the names."""
    history = states(server, run_id)
    assert history, f"run {run_id} has no states"
    for before, after in pairwise(history):
        broken = _broken_rule(_spec(before), _spec(after))
        assert broken is None, f"run {run_id}: {before['name']} → {after['name']} is {broken}: {history}"
    return [state["name"] for state in history]


def all_logs(server: Server, run_id: str) -> list[dict[str, Any]]:
    page: Any = server.get(f"flow-runs/{run_id}/logs/", page_size=1000)
    lines = list(page["results"])
    # A live run's log always has a `next` cursor (for followers): an empty page is the end.
    while page.get("next") and page["results"]:
        response = server.http.get(page["next"])
        response.raise_for_status()
        page = response.json()
        lines.extend(page["results"])
    return lines


def assert_logs_complete(server: Server, run_id: str) -> list[dict[str, Any]]:
    """Each sender's sequence numbers are 0..n-1, each once: no line lost, none stored twice."""
    lines = all_logs(server, run_id)
    by_source: dict[str, list[int]] = defaultdict(list)
    for line in lines:
        by_source[line["source"]].append(line["seq"])
    for source, seqs in by_source.items():
        assert sorted(seqs) == list(range(len(seqs))), f"run {run_id}, source {source}: seq {sorted(seqs)}"
    return lines


def count_messages(lines: list[dict[str, Any]], prefix: str) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for line in lines:
        if line["message"].startswith(prefix):
            counts[line["message"]] += 1
    return dict(counts)
