"""Acceptance 1 (property): random proposal sequences always leave a legal, final, idempotent history."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from controlplane.runs.models import FlowRun, FlowRunState
from controlplane.runs.orchestration.context import ResultStatus, StateSpec
from controlplane.runs.services.flow_runs import flow_run_set_state
from controlplane.runs.states import TERMINAL_TYPES, StateType
from tests.support.runs import in_prod, make_run
from tests.support.tenants import World

S = StateType
NAMES: dict[str, list[str]] = {
    S.SCHEDULED: ["", "Late", "AwaitingRetry"],
    S.RUNNING: ["", "Retrying"],
    S.PAUSED: ["", "Suspended"],
}


def legal(previous: str, following: str) -> bool:
    """An independent statement of which consecutive history entries may follow each other."""
    if previous in TERMINAL_TYPES:
        return False
    if following == S.PENDING and previous in (S.PENDING, S.RUNNING, S.CANCELLING, S.PAUSED):
        return False
    return not (previous == S.CANCELLING and following != S.CANCELLED)


proposals = st.sampled_from(list(S.values)).flatmap(
    lambda type_: st.tuples(st.just(type_), st.sampled_from(NAMES.get(type_, [""])))
)


class FlowRunLifecycle(RuleBasedStateMachine):
    world: World

    @initialize(retries=st.integers(min_value=0, max_value=2))
    def new_run(self, retries: int) -> None:
        self.run = make_run(self.world, S.SCHEDULED, max_retries=retries)
        self.last_accepted: tuple[str, str] | None = None

    @rule(proposal=proposals)
    def propose(self, proposal: tuple[str, str]) -> None:
        type_, name = proposal
        with in_prod(self.world):
            before = FlowRunState.objects.filter(flow_run=self.run).count()
            was_terminal = FlowRun.objects.get(pk=self.run.pk).state_type in TERMINAL_TYPES
            result = flow_run_set_state(run_id=self.run.pk, proposed=StateSpec(type=type_, name=name))
            after = FlowRunState.objects.filter(flow_run=self.run).count()
        assert after == before + int(result.changed)
        if was_terminal:
            assert not result.changed
        if result.status == ResultStatus.ACCEPT and result.changed:
            self.last_accepted = (result.state.type, result.state.name)

    @rule()
    def repeat_the_current_state(self) -> None:
        with in_prod(self.world):
            run = FlowRun.objects.get(pk=self.run.pk)
            if run.state_type == S.PENDING:
                return  # a second submission is refused, not repeated (covered by the table)
            before = FlowRunState.objects.filter(flow_run=run).count()
            same = StateSpec(type=run.state_type, name=run.state_name, details=run.state_details)
            result = flow_run_set_state(run_id=run.pk, proposed=same)
            assert result.status == ResultStatus.ACCEPT
            assert not result.changed
            assert FlowRunState.objects.filter(flow_run=run).count() == before

    @invariant()
    def history_is_a_legal_path(self) -> None:
        if not hasattr(self, "run"):
            return
        with in_prod(self.world):
            history = list(FlowRunState.objects.filter(flow_run=self.run).order_by("id").values_list("type", flat=True))
            run = FlowRun.objects.get(pk=self.run.pk)
        for previous, following in itertools.pairwise(history):
            assert legal(previous, following), f"{previous} → {following} in {history}"
        assert run.state_type == history[-1]


@pytest.mark.django_db
def test_random_proposal_sequences(world: World) -> None:
    FlowRunLifecycle.world = world
    machine: Any = FlowRunLifecycle.TestCase
    machine.settings = settings(
        max_examples=60, stateful_step_count=25, deadline=None, suppress_health_check=list(HealthCheck)
    )
    machine().runTest()
