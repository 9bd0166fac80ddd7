"""`@flow` (like `prefect.flows`): a function whose runs are tracked by the control plane."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine, Iterable
from typing import TYPE_CHECKING, Any, Generic, Literal, ParamSpec, TypeVar, overload

from tether._parameters import parameter_schema
from tether.task_runners import TaskRunner, ThreadPoolTaskRunner
from tether.tasks import RetryDelay

if TYPE_CHECKING:
    from tether.context import FlowRun
    from tether.results import ResultStore
    from tether.states import State

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

FlowHook = Callable[["Flow[..., Any]", "FlowRun", "State"], None]


class Flow(Generic[P, R]):
    """A flow: call it to run it (tracked when `TETHER_API_URL` is set); inside a flow it is a subflow."""

    def __init__(
        self,
        fn: Callable[P, R],
        *,
        name: str | None = None,
        version: str | None = None,
        flow_run_name: str | Callable[[], str] | None = None,
        retries: int | None = None,
        retry_delay_seconds: RetryDelay = None,
        task_runner: TaskRunner | None = None,
        description: str | None = None,
        timeout_seconds: float | None = None,
        validate_parameters: bool = True,
        persist_result: bool | None = None,
        result_storage: ResultStore | str | None = None,
        result_serializer: str | None = None,
        log_prints: bool | None = None,
        tags: Iterable[str] | None = None,
        on_completion: list[FlowHook] | None = None,
        on_failure: list[FlowHook] | None = None,
        on_cancellation: list[FlowHook] | None = None,
        on_crashed: list[FlowHook] | None = None,
    ) -> None:
        if not callable(fn):
            raise TypeError("@flow decorates a function.")
        self.fn = fn
        self.name = name or fn.__name__.replace("_", "-").replace("<lambda>", "unnamed")
        self.version = version
        self.flow_run_name = flow_run_name
        self.retries = retries or 0
        self.retry_delay_seconds = retry_delay_seconds
        self.task_runner = task_runner or ThreadPoolTaskRunner()
        self.description = description or inspect.getdoc(fn)
        self.timeout_seconds = timeout_seconds
        self.should_validate_parameters = validate_parameters
        self.persist_result = persist_result
        self.result_storage = result_storage
        self.result_serializer = result_serializer
        self.log_prints = log_prints
        self.tags = set(tags or ())
        self.on_completion_hooks = list(on_completion or [])
        self.on_failure_hooks = list(on_failure or [])
        self.on_cancellation_hooks = list(on_cancellation or [])
        self.on_crashed_hooks = list(on_crashed or [])
        self.isasync = inspect.iscoroutinefunction(fn)
        self._signature: inspect.Signature | None = None
        self.__doc__ = fn.__doc__
        self.__name__ = getattr(fn, "__name__", self.name)
        self.__qualname__ = getattr(fn, "__qualname__", self.name)
        self.__module__ = getattr(fn, "__module__", __name__)
        self.__wrapped__ = fn

    def __repr__(self) -> str:
        return f"Flow(name={self.name!r})"

    def __reduce_ex__(self, protocol: Any) -> Any:
        from tether._pickling import reference_of

        return reference_of(self) or super().__reduce_ex__(protocol)

    @property
    def signature(self) -> inspect.Signature:
        if self._signature is None:
            self._signature = inspect.signature(self.fn)
        return self._signature

    def parameter_schema(self) -> dict[str, Any]:
        return parameter_schema(self.fn)

    def with_options(self, **options: Any) -> Flow[P, R]:
        current: dict[str, Any] = {
            "name": self.name,
            "version": self.version,
            "flow_run_name": self.flow_run_name,
            "retries": self.retries,
            "retry_delay_seconds": self.retry_delay_seconds,
            "task_runner": self.task_runner,
            "description": self.description,
            "timeout_seconds": self.timeout_seconds,
            "validate_parameters": self.should_validate_parameters,
            "persist_result": self.persist_result,
            "result_storage": self.result_storage,
            "result_serializer": self.result_serializer,
            "log_prints": self.log_prints,
            "tags": self.tags,
            "on_completion": self.on_completion_hooks,
            "on_failure": self.on_failure_hooks,
            "on_cancellation": self.on_cancellation_hooks,
            "on_crashed": self.on_crashed_hooks,
        }
        current.update(options)
        return Flow(self.fn, **current)

    def on_completion(self, fn: FlowHook) -> FlowHook:
        self.on_completion_hooks.append(fn)
        return fn

    def on_failure(self, fn: FlowHook) -> FlowHook:
        self.on_failure_hooks.append(fn)
        return fn

    def on_cancellation(self, fn: FlowHook) -> FlowHook:
        self.on_cancellation_hooks.append(fn)
        return fn

    def on_crashed(self, fn: FlowHook) -> FlowHook:
        self.on_crashed_hooks.append(fn)
        return fn

    @overload
    def __call__(  # type: ignore[valid-type]
        self: Flow[P, Any],
        *args: P.args,
        return_state: Literal[True],  # Prefect's signature: a keyword after ParamSpec args
        **kwargs: P.kwargs,
    ) -> State: ...

    @overload
    def __call__(
        self: Flow[P, Coroutine[Any, Any, T]], *args: P.args, **kwargs: P.kwargs
    ) -> Coroutine[Any, Any, T]: ...

    @overload
    def __call__(self: Flow[P, T], *args: P.args, **kwargs: P.kwargs) -> T: ...

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run the flow and return its result (or its final state with `return_state=True`)."""
        from tether._flow_engine import run_flow_async, run_flow_sync

        return_state = bool(kwargs.pop("return_state", False))
        bound = self.signature.bind(*args, **kwargs)
        bound.apply_defaults()
        if self.isasync:
            return run_flow_async(self, bound, return_state=return_state)
        return run_flow_sync(self, bound, return_state=return_state)


@overload
def flow(__fn: Callable[P, R]) -> Flow[P, R]: ...


@overload
def flow(
    __fn: None = None,
    *,
    name: str | None = None,
    version: str | None = None,
    flow_run_name: str | Callable[[], str] | None = None,
    retries: int | None = None,
    retry_delay_seconds: RetryDelay = None,
    task_runner: TaskRunner | None = None,
    description: str | None = None,
    timeout_seconds: float | None = None,
    validate_parameters: bool = True,
    persist_result: bool | None = None,
    result_storage: ResultStore | str | None = None,
    result_serializer: str | None = None,
    log_prints: bool | None = None,
    tags: Iterable[str] | None = None,
    on_completion: list[FlowHook] | None = None,
    on_failure: list[FlowHook] | None = None,
    on_cancellation: list[FlowHook] | None = None,
    on_crashed: list[FlowHook] | None = None,
) -> Callable[[Callable[P, R]], Flow[P, R]]: ...


def flow(__fn: Callable[P, R] | None = None, **options: Any) -> Flow[P, R] | Callable[[Callable[P, R]], Flow[P, R]]:
    """Make a function a flow: `@flow` or `@flow(name=..., retries=..., log_prints=True, ...)`."""
    if __fn is not None:
        return Flow(__fn, **options)

    def decorate(fn: Callable[P, R]) -> Flow[P, R]:
        return Flow(fn, **options)

    return decorate


__all__ = ["Flow", "flow", "parameter_schema"]
