"""`@task` (like `prefect.tasks`): a function whose runs are retried, cached, timed out and tracked."""

from __future__ import annotations

import datetime as _dt
import hashlib
import inspect
import random
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import TYPE_CHECKING, Any, Generic, Literal, ParamSpec, TypeVar, overload

from tether.cache_policies import CacheKeyFnPolicy, CachePolicy, task_input_hash
from tether.futures import TetherFuture, TetherFutureList
from tether.utilities.annotations import unmapped

if TYPE_CHECKING:
    from tether.background import BackgroundTaskFuture
    from tether.context import TaskRun, TaskRunContext
    from tether.results import ResultStore
    from tether.states import State
    from tether.transactions import Transaction

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

RetryDelay = float | int | list[float] | list[int] | Callable[[int], list[float]] | None
TaskHook = Callable[["Task[..., Any]", "TaskRun", "State"], None]
TransactionHook = Callable[["Transaction"], None]


def exponential_backoff(backoff_factor: float) -> Callable[[int], list[float]]:
    """Retry delays that double each time: `backoff_factor * 2**n` seconds before retry n+1.

    Combine with `retry_jitter_factor` on the task to spread retries of many task runs.
    """

    def retry_backoff(retries: int) -> list[float]:
        return [backoff_factor * 2**attempt for attempt in range(retries)]

    return retry_backoff


def retry_delays(spec: RetryDelay, retries: int, jitter_factor: float | None) -> list[float]:
    """The delay before each retry (one entry per retry)."""
    if retries <= 0:
        return []
    if spec is None:
        delays = [0.0] * retries
    elif callable(spec):
        delays = [float(d) for d in spec(retries)]
    elif isinstance(spec, list):
        delays = [float(d) for d in spec] or [0.0]
    else:
        delays = [float(spec)]
    delays = (delays + [delays[-1]] * retries)[:retries]
    if jitter_factor:
        delays = [max(0.0, d * (1 + random.uniform(-jitter_factor, jitter_factor))) for d in delays]  # noqa: S311
    return delays


def _task_key(fn: Callable[..., Any]) -> str:
    module = getattr(fn, "__module__", "") or ""
    digest = hashlib.md5(module.encode(), usedforsecurity=False).hexdigest()[:8]
    return f"{fn.__qualname__}-{digest}"[:255]


class Task(Generic[P, R]):
    """A task: call it inside a flow to run it (tracked), `.submit()` it for a future, `.map()` it."""

    def __init__(
        self,
        fn: Callable[P, R],
        *,
        name: str | None = None,
        description: str | None = None,
        tags: Iterable[str] | None = None,
        version: str | None = None,
        cache_policy: CachePolicy | None = None,
        cache_key_fn: Callable[[TaskRunContext, dict[str, Any]], str | None] | None = None,
        cache_expiration: _dt.timedelta | None = None,
        task_run_name: str | Callable[[], str] | None = None,
        retries: int | None = None,
        retry_delay_seconds: RetryDelay = None,
        retry_jitter_factor: float | None = None,
        persist_result: bool | None = None,
        result_storage: ResultStore | str | None = None,
        result_serializer: str | None = None,
        result_storage_key: str | None = None,
        timeout_seconds: float | None = None,
        log_prints: bool | None = None,
        refresh_cache: bool | None = None,
        on_completion: list[TaskHook] | None = None,
        on_failure: list[TaskHook] | None = None,
        on_rollback: list[TransactionHook] | None = None,
        on_commit: list[TransactionHook] | None = None,
    ) -> None:
        if not callable(fn):
            raise TypeError("@task decorates a function.")
        self.fn = fn
        self.name = name or fn.__name__
        self.description = description or inspect.getdoc(fn)
        self.tags = set(tags or ())
        self.version = version
        if cache_key_fn is not None:
            cache_policy = CacheKeyFnPolicy(cache_key_fn)
        self.cache_policy = cache_policy
        self.cache_key_fn = cache_key_fn
        self.cache_expiration = cache_expiration
        self.task_run_name = task_run_name
        self.retries = retries or 0
        self.retry_delay_seconds = retry_delay_seconds
        self.retry_jitter_factor = retry_jitter_factor
        self.persist_result = persist_result
        self.result_storage = result_storage
        self.result_serializer = result_serializer
        self.result_storage_key = result_storage_key
        self.timeout_seconds = timeout_seconds
        self.log_prints = log_prints
        self.refresh_cache = refresh_cache
        self.on_completion_hooks = list(on_completion or [])
        self.on_failure_hooks = list(on_failure or [])
        self.on_rollback_hooks = list(on_rollback or [])
        self.on_commit_hooks = list(on_commit or [])
        self.isasync = inspect.iscoroutinefunction(fn)
        self.task_key = _task_key(fn)
        self._signature: inspect.Signature | None = None
        self.__doc__ = fn.__doc__
        self.__name__ = getattr(fn, "__name__", self.name)
        self.__qualname__ = getattr(fn, "__qualname__", self.name)
        self.__module__ = getattr(fn, "__module__", __name__)
        self.__wrapped__ = fn

    def __repr__(self) -> str:
        return f"Task(name={self.name!r})"

    def __reduce_ex__(self, protocol: Any) -> Any:
        from tether._pickling import reference_of

        return reference_of(self) or super().__reduce_ex__(protocol)

    @property
    def signature(self) -> inspect.Signature:
        if self._signature is None:
            self._signature = inspect.signature(self.fn)
        return self._signature

    def with_options(self, **options: Any) -> Task[P, R]:
        """A copy of this task with some options changed."""
        current: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "tags": self.tags,
            "version": self.version,
            "cache_policy": self.cache_policy if self.cache_key_fn is None else None,
            "cache_key_fn": self.cache_key_fn,
            "cache_expiration": self.cache_expiration,
            "task_run_name": self.task_run_name,
            "retries": self.retries,
            "retry_delay_seconds": self.retry_delay_seconds,
            "retry_jitter_factor": self.retry_jitter_factor,
            "persist_result": self.persist_result,
            "result_storage": self.result_storage,
            "result_serializer": self.result_serializer,
            "result_storage_key": self.result_storage_key,
            "timeout_seconds": self.timeout_seconds,
            "log_prints": self.log_prints,
            "refresh_cache": self.refresh_cache,
            "on_completion": self.on_completion_hooks,
            "on_failure": self.on_failure_hooks,
            "on_rollback": self.on_rollback_hooks,
            "on_commit": self.on_commit_hooks,
        }
        current.update(options)
        return Task(self.fn, **current)

    def on_completion(self, fn: TaskHook) -> TaskHook:
        self.on_completion_hooks.append(fn)
        return fn

    def on_failure(self, fn: TaskHook) -> TaskHook:
        self.on_failure_hooks.append(fn)
        return fn

    def on_rollback(self, fn: TransactionHook) -> TransactionHook:
        """Undo this task's side effects when the transaction it completed in rolls back."""
        self.on_rollback_hooks.append(fn)
        return fn

    def on_commit(self, fn: TransactionHook) -> TransactionHook:
        self.on_commit_hooks.append(fn)
        return fn

    # --- calling ---

    @overload
    def __call__(  # type: ignore[valid-type]
        self: Task[P, Any],
        *args: P.args,
        return_state: Literal[True],  # Prefect's signature: a keyword after ParamSpec args
        **kwargs: P.kwargs,
    ) -> State: ...

    @overload
    def __call__(
        self: Task[P, Coroutine[Any, Any, T]], *args: P.args, **kwargs: P.kwargs
    ) -> Coroutine[Any, Any, T]: ...

    @overload
    def __call__(self: Task[P, T], *args: P.args, **kwargs: P.kwargs) -> T: ...

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run the task now, in this thread, and return its result (or its state with `return_state=True`)."""
        from tether._task_engine import run_task_async, run_task_sync

        return_state = kwargs.pop("return_state", False)
        wait_for = kwargs.pop("wait_for", None)
        bound = self.signature.bind(*args, **kwargs)
        bound.apply_defaults()
        if self.isasync:
            return run_task_async(self, bound, wait_for=wait_for, return_type="state" if return_state else "result")
        return run_task_sync(self, bound, wait_for=wait_for, return_type="state" if return_state else "result")

    def submit(self, *args: Any, **kwargs: Any) -> TetherFuture[Any]:
        """Run the task on the flow's task runner; return a future at once."""
        from tether._task_engine import submit_task

        wait_for = kwargs.pop("wait_for", None)
        kwargs.pop("return_state", None)
        bound = self.signature.bind(*args, **kwargs)
        bound.apply_defaults()
        return submit_task(self, bound, wait_for=wait_for)

    def delay(self, *args: Any, **kwargs: Any) -> BackgroundTaskFuture:
        """Queue a background run for `tether task-worker serve`; see `apply_async` and tether.background."""
        from tether.background import apply_async

        return apply_async(self, args, kwargs)

    def apply_async(
        self,
        args: Iterable[Any] = (),
        kwargs: dict[str, Any] | None = None,
        *,
        scheduled_time: _dt.datetime | _dt.timedelta | None = None,
        idempotency_key: str | None = None,
        parameters_as_metadata: bool = False,
    ) -> BackgroundTaskFuture:
        """Queue a background run with options (a start time, an idempotency key); returns its future."""
        from tether.background import apply_async

        return apply_async(
            self,
            list(args),
            kwargs,
            scheduled_time=scheduled_time,
            idempotency_key=idempotency_key,
            parameters_as_metadata=parameters_as_metadata,
        )

    def map(self, *args: Any, **kwargs: Any) -> TetherFutureList[Any]:
        """Submit one task run per element of the iterable arguments (`unmapped(x)` passes x to each)."""
        from tether._task_engine import submit_task

        wait_for = kwargs.pop("wait_for", None)
        kwargs.pop("return_state", None)
        bound = self.signature.bind_partial(*args, **kwargs)
        mapped: dict[str, list[Any]] = {}
        static: dict[str, Any] = {}
        for key, value in bound.arguments.items():
            parameter = self.signature.parameters[key]
            if isinstance(value, unmapped):
                static[key] = value.value
            elif (
                parameter.kind == parameter.VAR_KEYWORD
                or isinstance(value, str | bytes | dict)
                or not isinstance(value, Iterable)
            ):
                static[key] = value
            else:
                mapped[key] = list(value)
        if not mapped:
            raise ValueError("map() needs at least one iterable argument (wrap constants in unmapped()).")
        lengths = {len(values) for values in mapped.values()}
        if len(lengths) != 1:
            sizes = ", ".join(f"{key}={len(values)}" for key, values in mapped.items())
            raise ValueError(f"map() got iterables of different lengths: {sizes}.")
        futures: TetherFutureList[Any] = TetherFutureList()
        for index in range(lengths.pop()):
            call = {**static, **{key: values[index] for key, values in mapped.items()}}
            one = self.signature.bind(**call) if not _has_positional_only(self.signature) else None
            if one is None:
                ordered = [call[name] for name in self.signature.parameters if name in call]
                one = self.signature.bind(*ordered)
            one.apply_defaults()
            futures.append(submit_task(self, one, wait_for=wait_for))
        return futures


def _has_positional_only(signature: inspect.Signature) -> bool:
    return any(p.kind in (p.POSITIONAL_ONLY, p.VAR_POSITIONAL) for p in signature.parameters.values())


@overload
def task(__fn: Callable[P, R]) -> Task[P, R]: ...


@overload
def task(
    __fn: None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    tags: Iterable[str] | None = None,
    version: str | None = None,
    cache_policy: CachePolicy | None = None,
    cache_key_fn: Callable[[TaskRunContext, dict[str, Any]], str | None] | None = None,
    cache_expiration: _dt.timedelta | None = None,
    task_run_name: str | Callable[[], str] | None = None,
    retries: int | None = None,
    retry_delay_seconds: RetryDelay = None,
    retry_jitter_factor: float | None = None,
    persist_result: bool | None = None,
    result_storage: ResultStore | str | None = None,
    result_serializer: str | None = None,
    result_storage_key: str | None = None,
    timeout_seconds: float | None = None,
    log_prints: bool | None = None,
    refresh_cache: bool | None = None,
    on_completion: list[TaskHook] | None = None,
    on_failure: list[TaskHook] | None = None,
    on_rollback: list[TransactionHook] | None = None,
    on_commit: list[TransactionHook] | None = None,
) -> Callable[[Callable[P, R]], Task[P, R]]: ...


def task(__fn: Callable[P, R] | None = None, **options: Any) -> Task[P, R] | Callable[[Callable[P, R]], Task[P, R]]:
    """Make a function a task: `@task` or `@task(retries=3, retry_delay_seconds=10, ...)`."""
    if __fn is not None:
        return Task(__fn, **options)

    def decorate(fn: Callable[P, R]) -> Task[P, R]:
        return Task(fn, **options)

    return decorate


AsyncResult = Awaitable[R]

__all__ = ["Task", "exponential_backoff", "task", "task_input_hash"]
