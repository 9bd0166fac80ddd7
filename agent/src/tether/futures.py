"""Futures of submitted task runs (like `prefect.futures`)."""

from __future__ import annotations

import concurrent.futures as cf
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, NamedTuple, TypeVar

from tether.states import Pending, State

R = TypeVar("R")


class TetherFuture(Generic[R]):
    """A task run in flight. `result()` waits for it; `state` says where it is now."""

    def __init__(self, task_run_id: str, wrapped: cf.Future[State]) -> None:
        self.task_run_id = task_run_id
        self.wrapped_future = wrapped

    def __repr__(self) -> str:
        return f"TetherFuture(task_run_id={self.task_run_id!r}, state={self.state!r})"

    @property
    def state(self) -> State:
        if self.wrapped_future.done():
            return self.wrapped_future.result()
        return Pending()

    def wait(self, timeout: float | None = None) -> None:
        try:
            self.wrapped_future.result(timeout)
        except cf.TimeoutError:
            return

    def result(self, timeout: float | None = None, raise_on_failure: bool = True) -> R:
        try:
            state = self.wrapped_future.result(timeout)
        except cf.TimeoutError as exc:
            raise TimeoutError(f"Task run {self.task_run_id} did not finish within {timeout}s.") from exc
        value: R = state.result(raise_on_failure=raise_on_failure)
        return value

    def done(self) -> bool:
        return self.wrapped_future.done()

    def add_done_callback(self, fn: Callable[[TetherFuture[R]], None]) -> None:
        self.wrapped_future.add_done_callback(lambda _: fn(self))


PrefectFuture = TetherFuture


class TetherFutureList(list[TetherFuture[R]]):
    """What `.map()` returns: a list of futures that can be waited on and resolved together."""

    def wait(self, timeout: float | None = None) -> None:
        wait(self, timeout=timeout)

    def result(self, timeout: float | None = None, raise_on_failure: bool = True) -> list[R]:
        return [future.result(timeout=timeout, raise_on_failure=raise_on_failure) for future in self]


PrefectFutureList = TetherFutureList


class DoneAndNotDoneFutures(NamedTuple, Generic[R]):
    done: set[TetherFuture[R]]
    not_done: set[TetherFuture[R]]


def wait(futures: Iterable[TetherFuture[R]], timeout: float | None = None) -> DoneAndNotDoneFutures[R]:
    """Wait for futures to finish (all of them, or until `timeout`); return (done, not_done)."""
    by_wrapped = {future.wrapped_future: future for future in futures}
    done, not_done = cf.wait(list(by_wrapped), timeout=timeout)
    return DoneAndNotDoneFutures({by_wrapped[f] for f in done}, {by_wrapped[f] for f in not_done})


def as_completed(futures: Iterable[TetherFuture[R]], timeout: float | None = None) -> Iterator[TetherFuture[R]]:
    """Yield futures as they finish."""
    by_wrapped = {future.wrapped_future: future for future in futures}
    for wrapped in cf.as_completed(list(by_wrapped), timeout=timeout):
        yield by_wrapped[wrapped]


def resolve_futures_to_states(value: Any) -> Any:
    """Replace futures (at any depth of lists, tuples, sets and dicts) by their final states."""
    return _visit(value, lambda future: future.wrapped_future.result())


def resolve_futures_to_results(value: Any) -> Any:
    return _visit(value, lambda future: future.result())


def collect_futures(value: Any, found: list[TetherFuture[Any]]) -> None:
    if isinstance(value, TetherFuture):
        found.append(value)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            collect_futures(item, found)
    elif isinstance(value, dict):
        for item in value.values():
            collect_futures(item, found)


def _visit(value: Any, resolve: Callable[[TetherFuture[Any]], Any]) -> Any:
    if isinstance(value, TetherFuture):
        return resolve(value)
    if isinstance(value, list):
        return (
            type(value)(_visit(item, resolve) for item in value)
            if type(value) is not list
            else [_visit(item, resolve) for item in value]
        )
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(_visit(item, resolve) for item in value)
    if isinstance(value, set | frozenset):
        return type(value)(_visit(item, resolve) for item in value)
    if isinstance(value, dict):
        return {key: _visit(item, resolve) for key, item in value.items()}
    return value


__all__ = [
    "PrefectFuture",
    "PrefectFutureList",
    "TetherFuture",
    "TetherFutureList",
    "as_completed",
    "wait",
]
