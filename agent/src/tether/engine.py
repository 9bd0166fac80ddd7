"""The engine the agent starts for a flow run: `python -m tether.engine <flow_run_id>`.

It reads the run (and its deployment) from the control plane, loads the deployment's
entrypoint from the working directory, checks and converts the parameters against the
flow's signature, proposes RUNNING, runs the flow under that run, and proposes the final
state, every proposal carrying the run's epoch (`TETHER_FLOW_RUN_EPOCH`). Exit status: 0 when
the run COMPLETED (or suspended itself), 1 when it ended otherwise, 2 for a usage error, 3 when the server
refused a transition (the run belongs to someone else now).
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Any

from tether._api import Client
from tether._parameters import coerce_parameters
from tether.exceptions import (
    APIError,
    EntrypointError,
    ParameterTypeError,
    ReportNotDelivered,
    TerminationSignal,
    TransitionRefused,
)
from tether.flows import Flow
from tether.states import Failed

_logger = logging.getLogger("tether.engine")


def load_entrypoint(entrypoint: str, *, root: Path | None = None) -> Flow[..., Any]:
    """Load `path/to/file.py:function` (relative to `root`, default cwd) or `module.path:function`."""
    root = root or Path.cwd()
    target, sep, attribute = entrypoint.rpartition(":")
    if not sep or not target or not attribute:
        raise EntrypointError(f"Entrypoint {entrypoint!r} is not 'path/to/file.py:function' or 'module:function'.")
    if target.endswith(".py"):
        path = (root / target).resolve()
        if not path.is_file():
            raise EntrypointError(f"Entrypoint file {target!r} not found in {root}.")
        for directory in (str(root), str(path.parent)):
            if directory not in sys.path:
                sys.path.insert(0, directory)
        module_name = f"__tether_flow__.{path.stem}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            raise EntrypointError(f"Cannot load {target!r}.")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            raise EntrypointError(f"Importing {target!r} failed: {type(exc).__name__}: {exc}") from exc
    else:
        if str(root) not in sys.path:
            sys.path.insert(0, str(root))
        try:
            module = importlib.import_module(target)
        except Exception as exc:
            raise EntrypointError(f"Importing {target!r} failed: {type(exc).__name__}: {exc}") from exc
    try:
        obj = getattr(module, attribute)
    except AttributeError as exc:
        raise EntrypointError(f"{target!r} has no {attribute!r}.") from exc
    if isinstance(obj, Flow):
        return obj
    if callable(obj):
        return Flow(obj)
    raise EntrypointError(f"{entrypoint!r} is not a flow or a function.")


def _raise_termination(signum: int, frame: FrameType | None) -> None:
    raise TerminationSignal(signum)


def _fail_before_start(client: Client, flow_run_id: str, epoch: int | None, message: str) -> None:
    try:
        client.set_flow_run_state(flow_run_id, Failed(message=message).to_api(), epoch=epoch)
    except APIError as exc:
        _logger.error("Could not report the failure: %s", exc)


def execute(flow_run_id: str, *, client: Client | None = None, epoch: int | None = None) -> int:
    """Run flow run `flow_run_id` from its deployment; return the process exit status."""
    client = client or Client.from_env()
    if client is None:
        sys.stderr.write("tether.engine: TETHER_API_URL is not set.\n")
        return 2
    if epoch is None and os.environ.get("TETHER_FLOW_RUN_EPOCH"):
        epoch = int(os.environ["TETHER_FLOW_RUN_EPOCH"])
    from tether.logging import setup_logging

    setup_logging()
    try:
        run = client.get(f"flow-runs/{flow_run_id}/")
        if not run.get("deployment_id"):
            raise EntrypointError("The flow run has no deployment: nothing to load.")
        deployment = client.get(f"deployments/{run['deployment_id']}/")
        flow = load_entrypoint(deployment["entrypoint"])
        parameters = coerce_parameters(flow.fn, run.get("parameters") or {})
    except (EntrypointError, ParameterTypeError) as exc:
        _logger.error("%s", exc)
        _fail_before_start(client, flow_run_id, epoch, str(exc))
        return 1
    except APIError as exc:
        _logger.error("Cannot read the flow run: %s", exc)
        return 1

    bound = flow.signature.bind_partial()
    bound.arguments.update(parameters)
    bound.apply_defaults()
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, _raise_termination)
    from tether._flow_engine import run_flow_async, run_flow_sync

    try:
        if flow.isasync:
            import asyncio

            state = asyncio.run(
                run_flow_async(flow, bound, return_state=True, flow_run=run, epoch=epoch, client=client)
            )
        else:
            state = run_flow_sync(flow, bound, return_state=True, flow_run=run, epoch=epoch, client=client)
    except TransitionRefused as exc:
        _logger.error("The server refused a transition; stopping: %s", exc)
        return 3
    except ReportNotDelivered as exc:
        _logger.error("%s", exc)
        return 1
    except TerminationSignal:
        return 143
    # A suspended run, or one handed back for a retry (AwaitingRetry), reported its state and
    # ends here; an agent starts it again once it is resumed or due.
    return 0 if state.is_completed() or state.is_paused() or state.is_scheduled() else 1


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.stderr.write("usage: python -m tether.engine <flow_run_id>\n")
        return 2
    return execute(args[0])


if __name__ == "__main__":
    sys.exit(main())
