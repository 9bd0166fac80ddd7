"""`tether login` and `tether flow-run ls|logs|cancel`: talking to a workspace from a terminal."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tether._api import Client

PAGE_SIZE = 200  # the server's largest page of flow runs


def _login(args: argparse.Namespace) -> int:
    from tether._api import Client
    from tether.exceptions import APIError
    from tether.profiles import save_profile

    url = args.url.strip().rstrip("/")
    if "/workspaces/" not in url:
        print(f"tether login: {url!r} is not a workspace API URL (…/api/v1/orgs/ORG/workspaces/WS).", file=sys.stderr)
        return 2
    with Client(url, args.key) as client:
        try:
            workspace = client.request("GET", "", retry_for=5).json()  # the workspace itself: checks URL and key
        except APIError as exc:
            hint = {
                401: "the key is refused (revoked, expired or mistyped)",
                403: "the key has no access to this workspace",
                404: "no such workspace at this URL, or the key cannot see it",
            }.get(exc.status_code or 0, str(exc))
            print(f"tether login: {hint}. Nothing was saved.", file=sys.stderr)
            return 1
    path = save_profile(args.profile, api_url=url, api_key=args.key)
    print(f"Logged in to workspace {workspace.get('name') or url!r}; profile {args.profile!r} saved in {path}.")
    return 0


def _pages(client: Client, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every row of a paginated list, following the server's `next` links."""
    page: dict[str, Any] = client.get(path, params=params)
    while True:
        yield from page.get("results", [])
        next_url = page.get("next")
        if not next_url or not page.get("results"):
            return
        page = client.get(next_url)  # an absolute URL: httpx does not prefix it with the base URL


def _state(run: dict[str, Any]) -> str:
    if run["state_name"].upper() == run["state_type"]:
        return str(run["state_name"])
    return f"{run['state_type']} ({run['state_name']})"


def _ls(args: argparse.Namespace) -> int:
    from tether.cli import _client

    params: dict[str, Any] = {"page_size": min(max(args.limit, 1), PAGE_SIZE)}
    if args.state:
        params["state_type"] = ",".join(state.upper() for state in args.state)
    runs: list[dict[str, Any]] = []
    for run in _pages(_client(), "flow-runs/", params):
        runs.append(run)
        if len(runs) >= args.limit:
            break
    rows = [
        (
            run["id"],
            f"{run['flow_name']}/{run['name']}",
            run["state_name"]
            if run["state_name"].upper() == run["state_type"]
            else f"{run['state_type']} ({run['state_name']})",
            run.get("deployment_name") or "-",
            (run.get("created_at") or "")[:19].replace("T", " "),
        )
        for run in runs
    ]
    header = ("ID", "NAME", "STATE", "DEPLOYMENT", "CREATED")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    if not rows:
        print("(no flow runs)")
    return 0


def _logs(args: argparse.Namespace) -> int:
    from tether.cli import _client
    from tether.exceptions import APIError

    try:
        for line in _pages(_client(), f"flow-runs/{args.flow_run_id}/logs/", {"page_size": 1000}):
            stamp = line["timestamp"][:23].replace("T", " ")
            print(f"{stamp} | {line['level']:>2} | {line['message']}")
    except APIError as exc:
        print(f"tether flow-run logs: {exc}", file=sys.stderr)
        return 1
    return 0


def _cancel(args: argparse.Namespace) -> int:
    from tether.cli import _client
    from tether.exceptions import APIError

    try:
        result = _client().post(f"flow-runs/{args.flow_run_id}/cancel/", None, retry_for=10)
    except APIError as exc:
        print(f"tether flow-run cancel: {exc}", file=sys.stderr)
        return 1
    state = result.get("state") or {}
    print(f"Flow run {args.flow_run_id}: {state.get('name')} ({state.get('type')}).")
    return 0


def add_workspace_commands(commands: Any) -> None:
    login = commands.add_parser("login", help="check a workspace URL and key, and store them in a profile")
    login.add_argument("--url", required=True, help="the workspace API URL (…/api/v1/orgs/ORG/workspaces/WS)")
    login.add_argument("--key", required=True, help="an API key (tether_…)")
    login.add_argument("--profile", default="default", help="the profile's name (default: default); it becomes active")
    login.set_defaults(handler=_login)

    flow_run = commands.add_parser("flow-run", help="list flow runs, print their logs, cancel them")
    flow_run_commands = flow_run.add_subparsers(dest="flow_run_command", metavar="COMMAND", required=True)
    ls = flow_run_commands.add_parser("ls", help="the newest flow runs")
    ls.add_argument("--state", action="append", default=[], metavar="TYPE", help="COMPLETED, FAILED, … (repeatable)")
    ls.add_argument("--limit", type=int, default=20, help="how many runs (default 20)")
    ls.set_defaults(handler=_ls)
    logs = flow_run_commands.add_parser("logs", help="every log line of a flow run")
    logs.add_argument("flow_run_id", metavar="ID")
    logs.set_defaults(handler=_logs)
    cancel = flow_run_commands.add_parser("cancel", help="cancel a flow run (CANCELLING while an agent stops it)")
    cancel.add_argument("flow_run_id", metavar="ID")
    cancel.set_defaults(handler=_cancel)
