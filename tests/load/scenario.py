"""The load itself: simulated agents, UI users and a run feeder, as asyncio tasks over httpx.

A simulated agent speaks the dispatch protocol a real `tether agent start` speaks (hello,
WebSocket control channel, claims, heartbeats) and plays the engine's part for the runs it
claims (RUNNING, a few log lines, COMPLETED, with the run token and epoch), without starting
a process: the load is on the control plane, not on this machine's process table. Like the
real agent, one whose control channel is not open after 2 s long-polls its claims until it
is, and a share of agents has no control channel at all (a proxy that refuses WebSockets)
and long-polls for good. A long-poll the server refuses to hold (its per-process cap,
`retry_after_seconds` in the answer) is retried after that long, as the real agent does. A
UI user makes the dashboard's and the runs pages' calls (frontend/src/pages/dashboard,
flow-runs, flow-run) every few seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import datetime as dt
import json
import logging
import random
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import WebSocketException

from tests.load.metrics import Recorder

LOG_LINES_PER_RUN = 3
# How long the real agent gives its control channel to open before it long-polls (tether.agent.worker).
CHANNEL_GRACE_SECONDS = 2.0
# Each actor has its own connections, as each real agent and browser has: one client shared
# by all would make the client's connection pool, not the server, the bottleneck.
ACTOR_CLIENT: contextvars.ContextVar[httpx.AsyncClient] = contextvars.ContextVar("actor_client")


@dataclass(frozen=True)
class LoadConfig:
    agents: int = 200
    ui_users: int = 20
    seconds: float = 300.0
    pools: int = 10
    heartbeat_seconds: float = 5.0
    # Real agents claim on a wake-up and on a 15 s safety timer (tether.agent.config.DEFAULT_CLAIM_INTERVAL).
    claim_interval_seconds: float = 15.0
    # Agents behind a WebSocket-refusing proxy: they long-poll for good. (Every agent long-polls
    # while its channel is not open; the server holds only TETHER_LONG_POLLS_PER_PROCESS of
    # them at once and answers the others at once with `retry_after_seconds`.)
    long_poll_share: float = 0.05
    long_poll_seconds: float = 20.0
    ui_interval_seconds: float = 5.0
    # A fleet comes up over some seconds, not in one instant.
    ramp_seconds: float = 10.0
    runs_per_second: float = 2.0
    run_seconds: float = 1.0
    # Generous: on a shared 2-core machine a slow answer is a latency figure, not an error.
    request_timeout_seconds: float = 60.0


@dataclass(frozen=True)
class Target:
    """Where the load goes: the workspace API, its WebSocket base, keys, and one deployment per pool."""

    api_url: str
    ws_url: str
    api_key: str = field(repr=False)
    agent_key: str = field(repr=False)
    pools: list[str]
    deployments: list[str]


@dataclass
class Load:
    config: LoadConfig
    target: Target
    recorder: Recorder = field(default_factory=Recorder)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    runs_created: int = 0
    runs_completed: int = 0
    seconds: float = 0.0  # how long the load ran, its wind-down not included

    async def call(
        self,
        kind: str,
        method: str,
        path: str,
        *,
        key: str,
        body: Any = None,
        params: dict[str, Any] | None = None,
        wait_seconds: float = 0.0,
    ) -> Any:
        """One request, recorded; its JSON, or None when it failed (the failure is counted)."""
        started = time.perf_counter()
        try:
            response = await ACTOR_CLIENT.get().request(
                method,
                f"{self.target.api_url}/{path}",
                json=body,
                params=params,
                headers={"Authorization": f"Bearer {key}"},
                timeout=self.config.request_timeout_seconds + wait_seconds,
            )
        except httpx.HTTPError as exc:
            self.recorder.failed(kind, type(exc).__name__)
            return None
        elapsed = time.perf_counter() - started
        if response.status_code >= 400:
            self.recorder.failed(kind, f"HTTP {response.status_code}", server_error=response.status_code >= 500)
            return None
        # A long-poll's time is mostly its deliberate wait: kept apart from the latency figures.
        waits = wait_seconds > 0
        self.recorder.ok(f"{kind}_long_poll" if waits else kind, elapsed, counted=not waits)
        return response.json()

    async def pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), seconds)


class SimulatedAgent:
    def __init__(self, load: Load, index: int, *, long_poll: bool) -> None:
        self.load = load
        self.name = f"load-agent-{index:04d}"
        self.pool = load.target.pools[index % len(load.target.pools)]
        self.long_poll = long_poll
        self.agent_id = ""
        self.wake = asyncio.Event()
        self.pushed = False
        self.held: dict[str, int] = {}

    async def run(self) -> None:
        load = self.load
        await load.pause(random.uniform(0, load.config.ramp_seconds))
        while not load.stopping.is_set() and not self.agent_id:
            body = {"name": self.name, "pool": self.pool, "queues": [], "capacity": 1, "version": "load"}
            answer = await load.call("agent.hello", "POST", "agents/hello/", key=load.target.agent_key, body=body)
            if answer is None:
                await load.pause(2.0)
                continue
            self.agent_id = answer["agent_id"]
        tasks = [asyncio.create_task(self.heartbeats())]
        if not self.long_poll:
            tasks.append(asyncio.create_task(self.control_channel()))
        try:
            await self.claims()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def control_channel(self) -> None:
        load = self.load
        url = f"{load.target.ws_url}/agents/{self.agent_id}"
        while not load.stopping.is_set():
            started = time.perf_counter()
            try:
                async with ws_connect(
                    url, additional_headers={"Authorization": f"Bearer {load.target.agent_key}"}, open_timeout=10
                ) as channel:
                    load.recorder.ok("agent.ws_open", time.perf_counter() - started)
                    self.pushed = True
                    self.wake.set()
                    async for message in channel:
                        if json.loads(message).get("type") == "wake":
                            self.wake.set()
            except (OSError, TimeoutError, WebSocketException) as exc:
                if load.stopping.is_set():
                    return
                load.recorder.channel_failed(type(exc).__name__)
            self.pushed = False
            await load.pause(2.0)

    async def heartbeats(self) -> None:
        load = self.load
        await load.pause(random.uniform(0, load.config.heartbeat_seconds))
        while not load.stopping.is_set():
            body = {"runs": [{"id": run_id, "epoch": epoch} for run_id, epoch in self.held.items()]}
            await load.call(
                "agent.heartbeat", "POST", f"agents/{self.agent_id}/heartbeat/", key=load.target.agent_key, body=body
            )
            await load.pause(load.config.heartbeat_seconds)

    async def claims(self) -> None:
        load = self.load
        if not self.long_poll:
            # As the real agent: a first claim as a long-poll would not hear the first wake-up,
            # so the channel gets a moment to open (its opening sets `wake`).
            await self.pause_until_woken(CHANNEL_GRACE_SECONDS)
        while not load.stopping.is_set():
            pushed = self.pushed
            wait_seconds = 0.0 if pushed else load.config.long_poll_seconds
            self.wake.clear()  # a wake-up during the claim is not lost
            answer = await load.call(
                "agent.claim",
                "POST",
                f"agents/{self.agent_id}/claim/",
                key=load.target.agent_key,
                body={"capacity": 1, "wait_seconds": wait_seconds},
                wait_seconds=wait_seconds,
            )
            runs = (answer or {}).get("runs", [])
            for claimed in runs:
                await self.execute(claimed)
            if runs:
                continue
            refused_for = float((answer or {}).get("retry_after_seconds") or 0.0)
            if refused_for > 0:
                load.recorder.long_polls_refused += 1
            if pushed:
                await self.pause_until_woken(load.config.claim_interval_seconds)
            elif refused_for > 0:
                # The server held no place for this long-poll: back when it said, or when the channel opens.
                await self.pause_until_woken(refused_for)
            elif answer is None:
                await self.pause_until_woken(1.0)  # a failed long-poll: do not spin

    async def pause_until_woken(self, seconds: float) -> None:
        waiting = [asyncio.ensure_future(self.wake.wait()), asyncio.ensure_future(self.load.stopping.wait())]
        await asyncio.wait(waiting, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        for future in waiting:
            future.cancel()

    async def execute(self, claimed: dict[str, Any]) -> None:
        """The engine's reports for one run: RUNNING, log lines, COMPLETED, with the run token."""
        load = self.load
        run = claimed["flow_run"]
        run_id, epoch, token = run["id"], int(run["epoch"]), claimed["run_token"]
        self.held[run_id] = epoch
        try:
            if not await self.propose(run_id, epoch, token, "RUNNING", "Running"):
                return
            now = dt.datetime.now(dt.UTC).isoformat()
            lines = [
                {"flow_run_id": run_id, "seq": n, "level": 20, "name": "load", "message": f"step {n}", "timestamp": now}
                for n in range(LOG_LINES_PER_RUN)
            ]
            await load.call("engine.logs", "POST", "logs/", key=token, body=lines)
            await load.pause(load.config.run_seconds)
            if await self.propose(run_id, epoch, token, "COMPLETED", "Completed"):
                load.runs_completed += 1
        finally:
            self.held.pop(run_id, None)

    async def propose(self, run_id: str, epoch: int, token: str, state_type: str, name: str) -> bool:
        load = self.load
        body = {"state": {"type": state_type, "name": name}, "epoch": epoch}
        answer = await load.call(
            f"engine.set_{name.lower()}", "POST", f"flow-runs/{run_id}/set-state/", key=token, body=body
        )
        if answer is None:
            return False
        if answer.get("status") != "ACCEPT":
            load.recorder.failed(f"engine.set_{name.lower()}", f"answered {answer.get('status')}")
            return False
        return True


class UIUser:
    """The dashboard's polls and a look at the runs page and one run, every `ui_interval_seconds`."""

    def __init__(self, load: Load) -> None:
        self.load = load

    async def run(self) -> None:
        load = self.load
        await load.pause(random.uniform(0, load.config.ui_interval_seconds))
        page = 0
        while not load.stopping.is_set():
            await (self.dashboard() if page % 2 == 0 else self.runs_pages())
            page += 1
            await load.pause(load.config.ui_interval_seconds * random.uniform(0.8, 1.2))

    async def get(self, kind: str, path: str, **params: Any) -> Any:
        return await self.load.call(kind, "GET", path, key=self.load.target.api_key, params=params or None)

    async def dashboard(self) -> None:
        now = dt.datetime.now(dt.UTC)
        await asyncio.gather(
            self.get("ui.counts", "flow-runs/counts/"),
            self.get("ui.runs_failed", "flow-runs/", state_type="FAILED,CRASHED", page_size=10),
            self.get("ui.runs_late", "flow-runs/", state_name="Late", page_size=10),
            self.get(
                "ui.runs_upcoming",
                "flow-runs/",
                state_type="SCHEDULED",
                expected_start_after=now.isoformat(),
                expected_start_before=(now + dt.timedelta(days=1)).isoformat(),
                sort="created",
                page_size=50,
            ),
            self.get("ui.agents", "agents/", page_size=200),
        )

    async def runs_pages(self) -> None:
        listing = await self.get("ui.runs_list", "flow-runs/")
        results = (listing or {}).get("results") or []
        if not results:
            return
        run_id = random.choice(results)["id"]
        await asyncio.gather(
            self.get("ui.run_detail", f"flow-runs/{run_id}/"),
            self.get("ui.run_states", f"flow-runs/{run_id}/states/"),
            self.get("ui.run_tasks", "task-runs/", flow_run_id=run_id, page_size=200),
            self.get("ui.run_logs", f"flow-runs/{run_id}/logs/", page_size=1000),
            self.get("ui.run_artifacts", "artifacts/", flow_run_id=run_id),
        )


async def feed_runs(load: Load) -> None:
    """New runs at a steady rate, across the pools' deployments: the work the agents claim."""
    interval = 1.0 / load.config.runs_per_second
    index = 0
    while not load.stopping.is_set():
        deployment = load.target.deployments[index % len(load.target.deployments)]
        answer = await load.call(
            "api.create_run", "POST", "flow-runs/", key=load.target.api_key, body={"deployment_id": deployment}
        )
        if answer is not None:
            load.runs_created += 1
        index += 1
        await load.pause(interval)


async def with_client(actor: Coroutine[Any, Any, None], connections: int) -> None:
    # Idle connections are dropped before uvicorn's 5 s keep-alive ends them: reusing one the
    # server is closing fails with a ReadError that would count as the server's error.
    limits = httpx.Limits(max_connections=connections, keepalive_expiry=3.0)
    async with httpx.AsyncClient(limits=limits) as client:
        ACTOR_CLIENT.set(client)
        await actor


async def drive(
    config: LoadConfig,
    target: Target,
    *,
    on_tick: Callable[[], None] | None = None,
    on_stop: Callable[[], None] | None = None,
) -> Load:
    """Run the whole load for `config.seconds`; `on_tick()` about once a second, `on_stop()` when it ends."""
    # A log line per request would cost the generator more than the requests themselves.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    load = Load(config, target)
    long_pollers = round(config.agents * config.long_poll_share)
    actors = [with_client(SimulatedAgent(load, n, long_poll=n < long_pollers).run(), 2) for n in range(config.agents)]
    actors += [with_client(UIUser(load).run(), 6) for _ in range(config.ui_users)]
    actors.append(with_client(feed_runs(load), 1))
    tasks = [asyncio.create_task(actor) for actor in actors]
    started = time.monotonic()
    deadline = started + config.seconds
    while time.monotonic() < deadline:
        await asyncio.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
        if on_tick is not None:
            on_tick()
        crashed = [task for task in tasks if task.done() and task.exception() is not None]
        if crashed:
            raise RuntimeError("a load actor crashed") from crashed[0].exception()
    load.stopping.set()
    load.seconds = time.monotonic() - started
    if on_stop is not None:
        on_stop()
    # In-flight requests (long-polls included) end by themselves; whatever is left then is cancelled.
    await asyncio.wait(tasks, timeout=config.long_poll_seconds + config.request_timeout_seconds + 5)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return load
