"""Transactions (like `prefect.transactions`, simplified): undo the side effects of tasks that
already completed when a later step fails.

    with transaction():
        write_file(contents)   # a task with an `on_rollback` hook
        quality_check()        # raises: write_file's rollback hook runs, then the error propagates

Task runs that complete inside a transaction are staged in it. If the `with` block ends with
an exception, their `on_rollback` hooks run, newest first; otherwise their `on_commit` hooks
run, in order. A nested transaction hands its staged task runs to its parent on success (they
commit or roll back with it) and rolls them back itself on failure. `set()`/`get()` share
values between the tasks and hooks of one transaction.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tether.context import TaskRun
    from tether.states import State
    from tether.tasks import Task

_logger = logging.getLogger("tether.transactions")
_UNSET: Any = object()


class TransactionState(StrEnum):
    ACTIVE = "ACTIVE"
    COMMITTED = "COMMITTED"
    ROLLED_BACK = "ROLLED_BACK"


@dataclass(frozen=True)
class _Staged:
    task: Task[..., Any]
    task_run: TaskRun
    state: State


TransactionHook = Callable[["Transaction"], None]


class Transaction:
    """A unit of work whose task runs commit together or roll back together."""

    def __init__(self, key: str | None = None, parent: Transaction | None = None) -> None:
        self.key = key
        self.parent = parent
        self.state = TransactionState.ACTIVE
        self._staged: list[_Staged] = []
        self._values: dict[str, Any] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Transaction(key={self.key!r}, state={self.state.value})"

    # --- shared values ---

    def set(self, name: str, value: Any) -> None:
        """Share a value with the other tasks and hooks of this transaction (and nested ones)."""
        with self._lock:
            self._values[name] = value

    def get(self, name: str, default: Any = _UNSET) -> Any:
        """A value set in this transaction or an enclosing one; `default` (or KeyError) if none."""
        with self._lock:
            if name in self._values:
                return self._values[name]
        if self.parent is not None:
            return self.parent.get(name, default)
        if default is _UNSET:
            raise KeyError(name)
        return default

    # --- staging and outcome ---

    def stage(self, task: Task[..., Any], task_run: TaskRun, state: State) -> None:
        """Record a completed task run: its hooks run when this transaction commits or rolls back."""
        if not (task.on_rollback_hooks or task.on_commit_hooks):
            return
        with self._lock:
            if self.state == TransactionState.ACTIVE:
                self._staged.append(_Staged(task, task_run, state))

    def is_committed(self) -> bool:
        return self.state == TransactionState.COMMITTED

    def is_rolled_back(self) -> bool:
        return self.state == TransactionState.ROLLED_BACK

    def commit(self) -> None:
        """Commit: run `on_commit` hooks (or, nested, hand the task runs to the parent)."""
        with self._lock:
            if self.state != TransactionState.ACTIVE:
                return
            self.state = TransactionState.COMMITTED
            staged, self._staged = self._staged, []
        if self.parent is not None and self.parent.state == TransactionState.ACTIVE:
            with self.parent._lock:
                self.parent._staged.extend(staged)
            return
        for item in staged:
            self._run_hooks(item, item.task.on_commit_hooks, "commit")

    def rollback(self) -> None:
        """Roll back: run the `on_rollback` hooks of the staged task runs, newest first."""
        with self._lock:
            if self.state != TransactionState.ACTIVE:
                return
            self.state = TransactionState.ROLLED_BACK
            staged, self._staged = self._staged, []
        for item in reversed(staged):
            self._run_hooks(item, item.task.on_rollback_hooks, "rollback")

    def _run_hooks(self, item: _Staged, hooks: list[TransactionHook], kind: str) -> None:
        extra = {
            "flow_run_id": item.task_run.flow_run_id,
            "task_run_id": item.task_run.id,
            "run_label": f"Task run {item.task_run.name!r}",
        }
        for hook in hooks:
            name = getattr(hook, "__name__", repr(hook))
            _logger.info("Running %s hook %r", kind, name, extra=extra)
            try:
                hook(self)
            except Exception:  # noqa: BLE001 - one failing hook must not stop the others from undoing their work
                _logger.error("The %s hook %r failed:\n%s", kind, name, traceback.format_exc(), extra=extra)


_current: ContextVar[Transaction | None] = ContextVar("tether_transaction", default=None)


def get_transaction() -> Transaction | None:
    """The innermost open transaction, or None."""
    return _current.get()


@contextmanager
def transaction(key: str | None = None, **_ignored: Any) -> Iterator[Transaction]:
    """Open a transaction: commit on a clean exit, roll back (and re-raise) on an exception.

    Prefect's `commit_mode`, `isolation_level` and `store` are accepted and ignored.
    """
    txn = Transaction(key=key, parent=_current.get())
    token = _current.set(txn)
    try:
        yield txn
    except BaseException:
        txn.rollback()
        raise
    else:
        txn.commit()
    finally:
        _current.reset(token)


__all__ = ["Transaction", "TransactionState", "get_transaction", "transaction"]
