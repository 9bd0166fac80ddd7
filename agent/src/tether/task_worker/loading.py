"""Finding the tasks a worker serves from `module:attribute` specs."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any

from tether.exceptions import EntrypointError
from tether.tasks import Task


def load_task(spec: str) -> Task[..., Any]:
    """Import `package.module:task_name`. The module is imported by name, as the callers import it:
    a task's key includes its module's name, so `python -m` paths and file paths would not match."""
    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name or not attribute:
        raise EntrypointError(f"{spec!r}: give the task as module:name (e.g. myapp.tasks:send_email).")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise EntrypointError(f"{spec!r}: cannot import {module_name!r}: {exc}") from exc
    found = getattr(module, attribute, None)
    if not isinstance(found, Task):
        raise EntrypointError(f"{spec!r}: {attribute!r} is not a @task in {module_name!r}.")
    return found


def load_tasks(specs: Sequence[str]) -> dict[str, Task[..., Any]]:
    """The tasks by task key (what claims ask for)."""
    tasks: dict[str, Task[..., Any]] = {}
    for spec in specs:
        task = load_task(spec)
        tasks[task.task_key] = task
    if not tasks:
        raise EntrypointError("Give at least one task to serve (module:name).")
    return tasks
