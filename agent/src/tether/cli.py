"""The `tether` command line."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tether._version import __version__
from tether.settings import ClientSettings

if TYPE_CHECKING:
    from tether._api import Client

TERMINAL = {"COMPLETED", "FAILED", "CANCELLED", "CRASHED"}


def _config(_: argparse.Namespace) -> int:
    settings = ClientSettings.from_env()
    print(f"tether {__version__}")
    where = " (from the active profile)" if settings.source == "profile" else ""
    print(f"TETHER_API_URL:   {settings.api_url or '(not set: flows run locally, untracked)'}{where}")
    print(f"TETHER_API_KEY:   {'set' if settings.api_key_set else 'not set'}")
    print(f"TETHER_CA_BUNDLE: {settings.ca_bundle or '(system trust store)'}")
    return 0


def _client() -> Client:
    from tether._api import Client

    client = Client.from_env()
    if client is None:
        raise SystemExit(
            "tether: run `tether login --url URL --key KEY`, or set TETHER_API_URL (the workspace URL)"
            " and TETHER_API_KEY first."
        )
    return client


def parse_source(value: str | None) -> dict[str, Any] | None:
    """`git+URL[@REF]`, an `https://`/`s3://`… URL, or a path on the agent's host."""
    if not value:
        return None
    if value.startswith("git+"):
        url = value[4:]
        ref = None
        scheme_end = url.find("://") + 3
        at = url.rfind("@")
        if at > scheme_end and "/" not in url[at:]:
            url, ref = url[:at], url[at + 1 :]
        source: dict[str, Any] = {"type": "git", "url": url}
        if ref:
            source["ref"] = ref
        return source
    if "://" in value:
        return {"type": "url", "url": value}
    return {"type": "path", "path": value}


def parse_params(pairs: Sequence[str]) -> dict[str, Any]:
    """`k=v` pairs; a value is read as JSON when it parses (`n=3`, `flags=[1,2]`), else as a string."""
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"tether: --param takes key=value, not {pair!r}.")
        try:
            params[key] = json.loads(raw)
        except ValueError:
            params[key] = raw
    return params


def _deploy(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tether.deploy_file import DEFAULT_FILE, deploy_file

    if args.file or (args.entrypoint is None and Path(DEFAULT_FILE).exists()):
        return deploy_file(Path(args.file or DEFAULT_FILE), _client)
    if args.entrypoint is None or not args.name or not args.pool:
        print(
            f"tether deploy: give ENTRYPOINT --name NAME --pool POOL, or --file (no ./{DEFAULT_FILE} here).",
            file=sys.stderr,
        )
        return 2
    return deploy_one(
        _client(),
        entrypoint=args.entrypoint,
        name=args.name,
        pool=args.pool,
        queue=args.queue,
        source=parse_source(args.source),
        parameters=parse_params(args.param) if args.param else None,
        tags=args.tag,
    )


def deploy_one(
    client: Client,
    *,
    entrypoint: str,
    name: str,
    pool: str,
    queue: str | None = None,
    source: dict[str, Any] | None = None,
    parameters: dict[str, Any] | None = None,
    tags: Sequence[str] = (),
) -> int:
    """Create or update one deployment (`POST deployments/` upserts); 0 on success."""
    from tether.engine import load_entrypoint
    from tether.exceptions import APIError, EntrypointError

    try:
        flow = load_entrypoint(entrypoint)
    except EntrypointError as exc:
        print(f"tether deploy: {exc}", file=sys.stderr)
        return 1
    body: dict[str, Any] = {
        "flow_name": flow.name,
        "name": name,
        "entrypoint": entrypoint,
        "parameter_schema": flow.parameter_schema(),
        "work_pool_name": pool,
    }
    if queue:
        body["work_queue_name"] = queue
    if source:
        body["source"] = source
    if parameters:
        body["parameters"] = parameters
    if tags:
        body["tags"] = list(tags)
    if flow.description:
        body["description"] = flow.description[:2000]
    if flow.version:
        body["version"] = flow.version
    try:
        response = client.request("POST", "deployments/", json=body, retry_for=10)
    except APIError as exc:
        print(f"tether deploy: {flow.name}/{name}: {exc}", file=sys.stderr)
        return 1
    deployment = response.json()
    verb = "Created" if response.status_code == 201 else "Updated"
    print(f"{verb} deployment {flow.name}/{name} ({deployment['id']}) on pool {pool!r}.")
    print(f"Run it: tether run {flow.name}/{name}")
    return 0


def _find_deployment(client: Client, target: str) -> dict[str, Any]:
    flow_name, sep, name = target.partition("/")
    if not sep:
        raise SystemExit("tether run: name the deployment as FLOW/DEPLOYMENT.")
    found = client.get("deployments/", params={"flow_name": flow_name, "name": name})
    results: list[dict[str, Any]] = found.get("results", [])
    if not results:
        raise SystemExit(f"tether run: no deployment {target!r} in this workspace.")
    return results[0]


def _run(args: argparse.Namespace) -> int:
    from tether.exceptions import APIError

    client = _client()
    try:
        deployment = _find_deployment(client, args.deployment)
        run = client.post("flow-runs/", {"deployment_id": deployment["id"], "parameters": parse_params(args.param)})
    except APIError as exc:
        print(f"tether run: {exc}", file=sys.stderr)
        return 1
    print(f"Created flow run {run['name']!r} ({run['id']}) in state {run['state_type']}.")
    if not args.watch:
        return 0
    return watch(client, run["id"], interval=args.interval)


def watch(client: Client, flow_run_id: str, *, interval: float = 1.0) -> int:
    """Print a run's state changes and log lines until it ends; 0 if it COMPLETED."""
    logs_url = f"flow-runs/{flow_run_id}/logs/"
    params: dict[str, Any] | None = {"page_size": 1000}
    last_state = None
    while True:
        run = client.get(f"flow-runs/{flow_run_id}/")
        state = (run["state_type"], run["state_name"])
        if state != last_state:
            print(f"State: {run['state_name']} ({run['state_type']})", flush=True)
            last_state = state
        while True:
            page = client.get(logs_url, params=params)
            for line in page.get("results", []):
                print(f"{line['timestamp'][11:23]} | {line['level']:>2} | {line['message']}", flush=True)
            next_url = page.get("next")
            if not next_url:
                break
            # `next` is a full URL; keep only the query (the client is bound to the workspace URL).
            logs_url = f"flow-runs/{flow_run_id}/logs/?" + next_url.split("?", 1)[1] if "?" in next_url else logs_url
            params = None
            if not page.get("results"):
                break
        if run["state_type"] in TERMINAL:
            return 0 if run["state_type"] == "COMPLETED" else 1
        time.sleep(interval)


def _agent_config(args: argparse.Namespace) -> Any:
    import os

    from tether.agent.config import DEFAULT_CLAIM_INTERVAL, AgentConfig
    from tether.agent.errors import ConfigError

    claim_interval = getattr(args, "claim_interval", None)
    try:
        return AgentConfig.build(
            environ=os.environ,
            pool=args.pool or "",
            queues=getattr(args, "queue", []),
            limit=getattr(args, "limit", 4),
            name=args.name,
            work_dir=getattr(args, "work_dir", None),
            websocket=not getattr(args, "no_websocket", False),
            grace_seconds=getattr(args, "grace_seconds", 10.0),
            drain_timeout=getattr(args, "drain_timeout", 300.0),
            claim_interval=DEFAULT_CLAIM_INTERVAL if claim_interval is None else claim_interval,
        )
    except ConfigError as exc:
        raise SystemExit(f"tether agent: {exc}") from None


def _agent_start(args: argparse.Namespace) -> int:
    import logging

    config = _agent_config(args)
    logging.basicConfig(
        level=getattr(logging, args.log_level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("websockets").setLevel(logging.WARNING)
    from tether.agent.worker import Agent

    return Agent(config).run()


def _agent_status(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tether.agent.config import default_work_dir
    from tether.agent.status import print_status

    work_dir = Path(args.work_dir).expanduser() if args.work_dir else default_work_dir()
    return print_status(work_dir, sys.stdout, as_json=args.json, quiet=args.quiet)


def _agent_check(args: argparse.Namespace) -> int:
    from tether.agent.doctor import Doctor

    return Doctor(_agent_config(args)).run(sys.stdout)


def _block_register(args: argparse.Namespace) -> int:
    from tether.blocks.registry import load_block_class
    from tether.exceptions import TetherException

    client = _client()
    status = 0
    for target in args.targets:
        try:
            block_class = load_block_class(target)
            registered = block_class.register_type(client=client)
        except TetherException as exc:
            print(f"tether block register: {target}: {exc}", file=sys.stderr)
            status = 1
            continue
        secret = ", ".join(registered.get("secret_fields") or []) or "none"
        print(
            f"Registered block type {registered['slug']!r} (version {registered['version']}; secret fields: {secret})."
        )
    return status


def _add_block_commands(commands: Any) -> None:
    block = commands.add_parser("block", help="block types and blocks (encrypted configuration and credentials)")
    block_commands = block.add_subparsers(dest="block_command", metavar="COMMAND", required=True)
    register = block_commands.add_parser("register", help="create or update block types from Python classes")
    register.add_argument(
        "targets", nargs="+", metavar="MODULE:CLASS", help="module.path:Class or path/to/file.py:Class"
    )
    register.set_defaults(handler=_block_register)


def _add_agent_commands(commands: Any) -> None:
    agent = commands.add_parser("agent", help="run deployments in this network (outbound connections only)")
    agent_commands = agent.add_subparsers(dest="agent_command", metavar="COMMAND", required=True)
    start = agent_commands.add_parser("start", help="claim and run the pool's runs until SIGTERM, then drain")
    start.add_argument("--pool", required=True, help="the work pool to serve")
    start.add_argument("--queue", action="append", default=[], help="a queue of the pool (repeatable; default: all)")
    start.add_argument("--limit", type=int, default=4, help="runs at the same time (default 4)")
    start.add_argument("--name", help="the agent's name (default: the host name)")
    start.add_argument("--work-dir", help="where git checkouts are cached (default ~/.tether/agent)")
    start.add_argument(
        "--grace-seconds", type=float, default=10.0, help="SIGTERM → SIGKILL delay when a run is cancelled (default 10)"
    )
    start.add_argument(
        "--drain-timeout", type=float, default=300.0, help="on SIGTERM, how long runs may finish (default 300)"
    )
    start.add_argument("--no-websocket", action="store_true", help="never open the WebSocket: claim by long-poll")
    start.add_argument("--claim-interval", type=float, default=None, help=argparse.SUPPRESS)
    start.add_argument("--log-level", default="INFO", help="DEBUG, INFO (default), WARNING or ERROR")
    start.set_defaults(handler=_agent_start)
    check = agent_commands.add_parser("check", help="diagnose DNS, TCP, TLS, proxy, WebSocket, clock and key")
    check.add_argument("--pool", default="-", help=argparse.SUPPRESS)
    check.add_argument("--name", help=argparse.SUPPRESS)
    check.set_defaults(handler=_agent_check)
    status = agent_commands.add_parser("status", help="the figures of the agent using this work directory")
    status.add_argument("--work-dir", help="the agent's --work-dir (default ~/.tether/agent)")
    status.add_argument("--json", action="store_true", help="print the figures as JSON")
    status.add_argument("--quiet", action="store_true", help="print nothing; exit 1 if the agent is not heartbeating")
    status.set_defaults(handler=_agent_status)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tether", description="Tether's SDK, agent and CLI.")
    parser.add_argument("--version", action="version", version=f"tether {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    config = commands.add_parser("config", help="show the configuration read from the environment")
    config.set_defaults(handler=_config)

    deploy = commands.add_parser("deploy", help="create or update a deployment of a flow (schema and source only)")
    deploy.add_argument("entrypoint", nargs="?", help="path/to/file.py:function or module:function")
    deploy.add_argument("--file", help="deploy every entry of a tether.yaml (default: ./tether.yaml, if no ENTRYPOINT)")
    deploy.add_argument("--name", help="the deployment's name")
    deploy.add_argument("--pool", help="the work pool its runs go to")
    deploy.add_argument("--queue", help="the pool's queue (default: its `default` queue)")
    deploy.add_argument("--source", help="where agents get the code: git+URL@REF, a URL, or a path on the agent")
    deploy.add_argument("--param", action="append", default=[], metavar="K=V", help="a default parameter")
    deploy.add_argument("--tag", action="append", default=[], help="a tag (repeatable)")
    deploy.set_defaults(handler=_deploy)

    run = commands.add_parser("run", help="start a run of a deployment")
    run.add_argument("deployment", metavar="FLOW/DEPLOYMENT")
    run.add_argument("--param", action="append", default=[], metavar="K=V", help="a parameter (JSON or text)")
    run.add_argument("--watch", action="store_true", help="follow the run's state and logs until it ends")
    run.add_argument("--interval", type=float, default=1.0, help=argparse.SUPPRESS)
    run.set_defaults(handler=_run)

    from tether.cli_workspace import add_workspace_commands

    add_workspace_commands(commands)
    _add_agent_commands(commands)
    _add_block_commands(commands)
    from tether.task_worker.cli import add_task_worker_commands

    add_task_worker_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    result: int = handler(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
