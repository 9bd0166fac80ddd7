"""`tether task-worker serve module:task ... [--limit N]`."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any


def _serve(args: argparse.Namespace) -> int:
    from tether.exceptions import EntrypointError
    from tether.task_worker.loading import load_tasks
    from tether.task_worker.worker import TaskWorker

    logging.basicConfig(
        level=getattr(logging, args.log_level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    api_url = os.environ.get("TETHER_API_URL")
    if not api_url:
        sys.stderr.write("tether task-worker: set TETHER_API_URL (the workspace URL) and TETHER_API_KEY.\n")
        return 2
    try:
        tasks = load_tasks(args.tasks)
    except EntrypointError as exc:
        sys.stderr.write(f"tether task-worker: {exc}\n")
        return 2
    worker = TaskWorker(
        tasks,
        api_url=api_url,
        api_key=os.environ.get("TETHER_API_KEY"),
        limit=args.limit,
        name=args.name,
        long_poll_seconds=args.long_poll_seconds,
    )
    return worker.run()


def add_task_worker_commands(commands: Any) -> None:
    worker = commands.add_parser("task-worker", help="run background tasks queued by task.delay()")
    worker_commands = worker.add_subparsers(dest="task_worker_command", metavar="COMMAND", required=True)
    serve = worker_commands.add_parser("serve", help="claim and run these tasks' background runs until SIGTERM")
    serve.add_argument("tasks", nargs="+", metavar="MODULE:TASK", help="the tasks to serve (importable by module)")
    serve.add_argument("--limit", type=int, default=4, help="task runs at the same time (default 4)")
    serve.add_argument("--name", help="the worker's name (default: host name and pid)")
    serve.add_argument("--long-poll-seconds", type=float, default=20.0, help=argparse.SUPPRESS)
    serve.add_argument("--log-level", default="INFO", help="DEBUG, INFO (default), WARNING or ERROR")
    serve.set_defaults(handler=_serve)
