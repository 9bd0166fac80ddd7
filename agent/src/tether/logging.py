"""Run loggers: `get_run_logger()` returns a logger whose lines go to the console and, when
tracked, to the control plane (batched by the reporter, numbered per flow run)."""

from __future__ import annotations

import builtins
import datetime as _dt
import logging
import os
import sys
from typing import Any

from tether._redaction import redact
from tether.context import flow_run_context, task_run_context

_configured = False


class APILogHandler(logging.Handler):
    """Sends records that carry a flow run id to the reporter of that run."""

    def emit(self, record: logging.LogRecord) -> None:
        flow_run_id = getattr(record, "flow_run_id", None)
        if flow_run_id is None:
            return
        ctx = flow_run_context.get()
        if ctx is None or ctx.reporter is None or ctx.flow_run.id != flow_run_id:
            return
        try:
            message = self.format(record)
        except Exception:  # noqa: BLE001 - a bad format string must not break the run
            message = str(record.msg)
        ctx.reporter.report_log(
            {
                "flow_run_id": flow_run_id,
                "task_run_id": getattr(record, "task_run_id", None),
                "source": ctx.log_source,
                "seq": ctx.next_seq(),
                "level": max(0, min(50, record.levelno)),
                "name": record.name[:255],
                "message": message,
                "timestamp": _dt.datetime.fromtimestamp(record.created, _dt.UTC).isoformat(),
            }
        )


class _ConsoleFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        label = getattr(record, "run_label", "")
        record.label_prefix = f"{label} - " if label else ""
        return redact(super().format(record))


def setup_logging() -> None:
    """Attach the console and API handlers to the `tether` logger (once)."""
    global _configured
    if _configured:
        return
    _configured = True
    logger = logging.getLogger("tether")
    level = os.environ.get("TETHER_LOGGING_LEVEL", "INFO").upper()
    logger.setLevel(level)
    logger.propagate = False
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(
        _ConsoleFormatter("%(asctime)s.%(msecs)03d | %(levelname)-7s | %(label_prefix)s%(message)s", "%H:%M:%S")
    )
    logger.addHandler(console)
    api = APILogHandler()
    api.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(api)


class RunLoggerAdapter(logging.LoggerAdapter[logging.Logger]):
    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        kwargs["extra"] = {**(self.extra or {}), **kwargs.get("extra", {})}
        return msg, kwargs


def flow_run_logger(flow_run_id: str, label: str) -> RunLoggerAdapter:
    return RunLoggerAdapter(
        logging.getLogger("tether.flow_runs"), {"flow_run_id": flow_run_id, "task_run_id": None, "run_label": label}
    )


def get_run_logger() -> logging.LoggerAdapter[logging.Logger]:
    """The logger of the current flow or task run (lines are shipped to the control plane)."""
    setup_logging()
    task_ctx = task_run_context.get()
    flow_ctx = flow_run_context.get()
    if task_ctx is not None:
        run = task_ctx.task_run
        return RunLoggerAdapter(
            logging.getLogger("tether.task_runs"),
            {"flow_run_id": run.flow_run_id, "task_run_id": run.id, "run_label": f"Task run {run.name!r}"},
        )
    if flow_ctx is not None:
        return flow_run_logger(flow_ctx.flow_run.id, f"Flow run {flow_ctx.flow_run.name!r}")
    raise RuntimeError("get_run_logger() needs a flow or task run: call it from inside one.")


def get_logger(name: str = "tether") -> logging.Logger:
    setup_logging()
    return logging.getLogger(name if name.startswith("tether") else f"tether.{name}")


_original_print = builtins.print
_print_patched = False


def _run_print(*args: Any, **kwargs: Any) -> None:
    task_ctx = task_run_context.get()
    flow_ctx = flow_run_context.get()
    capture = task_ctx.log_prints if task_ctx is not None else (flow_ctx.log_prints if flow_ctx else False)
    if not capture or kwargs.get("file") not in (None, sys.stdout):
        _original_print(*args, **kwargs)
        return
    sep = kwargs.get("sep")
    get_run_logger().info((" " if sep is None else sep).join(str(arg) for arg in args))


def capture_prints() -> None:
    """Route `print` to the run logger in runs with `log_prints=True` (installed once, on first use)."""
    global _print_patched
    if not _print_patched:
        _print_patched = True
        builtins.print = _run_print


__all__ = ["get_logger", "get_run_logger"]
