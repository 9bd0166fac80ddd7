"""What dispatch does when a flow run's state changes (called by the flow-run services).

A SCHEDULED run is held by nobody: its lease ends (so its run token stops working and the
agent's next heartbeat lists it as lost), and its pool is woken if it is due. A run entering
CANCELLING is signalled to the agent holding it. Pushes go out after commit.
"""

from __future__ import annotations

from django.utils import timezone

from controlplane.runs.models import FlowRun
from controlplane.runs.orchestration.context import StateSpec
from controlplane.runs.states import StateType
from controlplane.workpools.dispatch import push
from controlplane.workpools.dispatch.timings import dispatch_timings


def on_flow_run_state(run: FlowRun, final: StateSpec) -> list[str]:
    """Apply dispatch's side of `final` to `run` (before it is saved); return the fields changed."""
    changed: list[str] = []
    if final.type == StateType.SCHEDULED:
        if run.lease_owner is not None or run.lease_expires_at is not None:
            run.lease_owner, run.lease_expires_at = None, None
            changed += ["lease_owner", "lease_expires_at"]
        due = run.next_scheduled_start_time
        if run.work_pool_id is not None and (due is None or due <= timezone.now() + dispatch_timings().prefetch):
            push.wake_pool_on_commit(run.work_pool_id)
    elif final.type == StateType.CANCELLING and run.lease_owner is not None:
        push.cancel_run_on_commit(run.lease_owner, run.id)
    return changed
