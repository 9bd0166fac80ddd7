"""Cache policies (like `prefect.cache_policies`): how a task run's cache key is computed.

A key found in result storage, unexpired, makes the task run COMPLETED/Cached without running.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tether.context import TaskRunContext


def hash_objects(*objects: Any) -> str | None:
    """A stable hash of JSON-able (else picklable) objects; None if they are neither."""
    try:
        data = json.dumps(objects, sort_keys=True, default=str).encode()
    except (TypeError, ValueError):
        try:
            data = pickle.dumps(objects)
        except Exception:  # noqa: BLE001 - unhashable inputs mean no caching
            return None
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


class CachePolicy:
    def compute_key(
        self, task_ctx: TaskRunContext, inputs: dict[str, Any], flow_parameters: dict[str, Any], **kwargs: Any
    ) -> str | None:
        raise NotImplementedError

    def __add__(self, other: CachePolicy) -> CachePolicy:
        return CompoundCachePolicy((self, other))


@dataclass(frozen=True)
class CompoundCachePolicy(CachePolicy):
    policies: tuple[CachePolicy, ...]

    def compute_key(
        self, task_ctx: TaskRunContext, inputs: dict[str, Any], flow_parameters: dict[str, Any], **kwargs: Any
    ) -> str | None:
        keys = [policy.compute_key(task_ctx, inputs, flow_parameters, **kwargs) for policy in self.policies]
        if any(key is None for key in keys):
            return None
        return hash_objects(*keys)


class _NoCache(CachePolicy):
    def compute_key(
        self, task_ctx: TaskRunContext, inputs: dict[str, Any], flow_parameters: dict[str, Any], **kwargs: Any
    ) -> str | None:
        return None


class Inputs(CachePolicy):
    """The task's inputs (and which task it is)."""

    def __init__(self, exclude: list[str] | None = None) -> None:
        self.exclude = exclude or []

    def compute_key(
        self, task_ctx: TaskRunContext, inputs: dict[str, Any], flow_parameters: dict[str, Any], **kwargs: Any
    ) -> str | None:
        kept = {name: value for name, value in inputs.items() if name not in self.exclude}
        return hash_objects(task_ctx.task.task_key, kept)


class TaskSource(CachePolicy):
    """The task function's source code: editing the task invalidates its cache."""

    def compute_key(
        self, task_ctx: TaskRunContext, inputs: dict[str, Any], flow_parameters: dict[str, Any], **kwargs: Any
    ) -> str | None:
        try:
            source = inspect.getsource(task_ctx.task.fn)
        except (OSError, TypeError):
            source = task_ctx.task.fn.__code__.co_code.hex()
        return hash_objects(source)


class FlowParameters(CachePolicy):
    def compute_key(
        self, task_ctx: TaskRunContext, inputs: dict[str, Any], flow_parameters: dict[str, Any], **kwargs: Any
    ) -> str | None:
        return hash_objects(flow_parameters)


class RunId(CachePolicy):
    def compute_key(
        self, task_ctx: TaskRunContext, inputs: dict[str, Any], flow_parameters: dict[str, Any], **kwargs: Any
    ) -> str | None:
        return task_ctx.task_run.flow_run_id


@dataclass(frozen=True)
class CacheKeyFnPolicy(CachePolicy):
    """Wraps a Prefect-style `cache_key_fn(context, parameters) -> str | None`."""

    cache_key_fn: Callable[[TaskRunContext, dict[str, Any]], str | None]

    def compute_key(
        self, task_ctx: TaskRunContext, inputs: dict[str, Any], flow_parameters: dict[str, Any], **kwargs: Any
    ) -> str | None:
        return self.cache_key_fn(task_ctx, inputs)


NONE: CachePolicy = _NoCache()
NO_CACHE = NONE
INPUTS: CachePolicy = Inputs()
TASK_SOURCE: CachePolicy = TaskSource()
FLOW_PARAMETERS: CachePolicy = FlowParameters()
RUN_ID: CachePolicy = RunId()
DEFAULT: CachePolicy = INPUTS + TASK_SOURCE + RUN_ID


def task_input_hash(context: TaskRunContext, arguments: dict[str, Any]) -> str | None:
    """A cache key from the task and its inputs (Prefect's `task_input_hash`)."""
    return hash_objects(context.task.task_key, context.task.fn.__code__.co_code.hex(), arguments)


__all__ = [
    "DEFAULT",
    "FLOW_PARAMETERS",
    "INPUTS",
    "NONE",
    "NO_CACHE",
    "RUN_ID",
    "TASK_SOURCE",
    "CacheKeyFnPolicy",
    "CachePolicy",
    "Inputs",
    "task_input_hash",
]
