"""Interrupting synchronous code that runs too long, in the thread it runs in.

On the main thread a SIGALRM timer interrupts even a blocking `time.sleep`; on other threads
the exception is injected into the thread (it is raised at the next Python instruction, so a
blocking C call finishes first).
"""

from __future__ import annotations

import ctypes
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class Interrupted(BaseException):
    """Raised inside the timed code. A BaseException, so `except Exception` in user code cannot swallow it."""


@contextmanager
def sync_timeout(seconds: float | None) -> Iterator[type[Interrupted] | None]:
    """Interrupt the block after `seconds`; yields the exception class raised when this timeout fires."""
    if seconds is None or seconds <= 0:
        yield None
        return
    interrupt: type[Interrupted] = type("Interrupted", (Interrupted,), {})
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
        with _alarm(seconds, interrupt):
            yield interrupt
    else:
        with _injected(seconds, interrupt):
            yield interrupt


@contextmanager
def _alarm(seconds: float, interrupt: type[Interrupted]) -> Iterator[None]:
    outer_remaining, _ = signal.getitimer(signal.ITIMER_REAL)
    if outer_remaining and outer_remaining <= seconds:
        yield  # an enclosing timeout fires first
        return
    started = time.monotonic()

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        raise interrupt

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_remaining:
            left = outer_remaining - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 0.001))


@contextmanager
def _injected(seconds: float, interrupt: type[Interrupted]) -> Iterator[None]:
    thread_id = threading.get_ident()
    lock = threading.Lock()
    state = {"active": True, "sent": False}

    def fire() -> None:
        with lock:
            if state["active"]:
                state["sent"] = True
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), ctypes.py_object(interrupt))

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        with lock:
            state["active"] = False
            timer.cancel()
            if state["sent"]:
                # Clear an exception that was sent but not raised yet.
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), None)
