"""The ordered rule lists. Order matters: the first rule that decides ends the evaluation."""

from __future__ import annotations

from controlplane.runs.orchestration.rules import (
    CancellingOnlyEndsCancelled,
    DeploymentConcurrencyLimit,
    NamedStatesKeepTheirType,
    OnlyScheduledRunsBecomeLate,
    PausesCarryAValidInputSchema,
    PreventDuplicateSubmission,
    RepeatedProposalsAreIdempotent,
    ResumeOnlyLivePauses,
    RetryFailedRuns,
    Rule,
    SuspendNeedsADeployment,
    TasksNeedAnActiveFlowRun,
    TaskTagLimitOfZeroAborts,
    TerminalStatesAreFinal,
    WaitForScheduledTime,
)

FLOW_RUN_POLICY: tuple[Rule, ...] = (
    NamedStatesKeepTheirType(),
    PreventDuplicateSubmission(),
    RepeatedProposalsAreIdempotent(),
    TerminalStatesAreFinal(),
    CancellingOnlyEndsCancelled(),
    OnlyScheduledRunsBecomeLate(),
    ResumeOnlyLivePauses(),
    PausesCarryAValidInputSchema(),
    SuspendNeedsADeployment(),
    WaitForScheduledTime(),
    DeploymentConcurrencyLimit(),
    RetryFailedRuns(),
)

TASK_RUN_POLICY: tuple[Rule, ...] = (
    NamedStatesKeepTheirType(),
    RepeatedProposalsAreIdempotent(),
    TerminalStatesAreFinal(),
    CancellingOnlyEndsCancelled(),
    TasksNeedAnActiveFlowRun(),
    TaskTagLimitOfZeroAborts(),
    RetryFailedRuns(),
)
