"""Tether: run Python workflows in your own network, tracked by a Tether control plane.

Importing this package must stay fast and light: every flow run pays for it. The public
names below are loaded on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from tether._version import __version__

if TYPE_CHECKING:
    from tether.context import get_run_context
    from tether.flow_runs import pause_flow_run, resume_flow_run, suspend_flow_run
    from tether.flows import Flow, flow
    from tether.futures import TetherFuture, as_completed, wait
    from tether.logging import get_run_logger
    from tether.states import State
    from tether.tasks import Task, exponential_backoff, task, task_input_hash
    from tether.utilities.annotations import unmapped

_LAZY = {
    "flow": "tether.flows",
    "Flow": "tether.flows",
    "task": "tether.tasks",
    "Task": "tether.tasks",
    "exponential_backoff": "tether.tasks",
    "task_input_hash": "tether.cache_policies",
    "get_run_logger": "tether.logging",
    "get_run_context": "tether.context",
    "State": "tether.states",
    "TetherFuture": "tether.futures",
    "wait": "tether.futures",
    "as_completed": "tether.futures",
    "unmapped": "tether.utilities.annotations",
    "pause_flow_run": "tether.flow_runs",
    "suspend_flow_run": "tether.flow_runs",
    "resume_flow_run": "tether.flow_runs",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tether' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = [
    "Flow",
    "State",
    "Task",
    "TetherFuture",
    "__version__",
    "as_completed",
    "exponential_backoff",
    "flow",
    "get_run_context",
    "get_run_logger",
    "pause_flow_run",
    "resume_flow_run",
    "suspend_flow_run",
    "task",
    "task_input_hash",
    "unmapped",
    "wait",
]
