"""The system under load: the production-shaped server (uvicorn, one worker per core) on PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import httpx

from tests.bench.harness import server_workers
from tests.e2e.agent_support import Server, bootstrap, fresh_database, write_flows
from tests.load.metrics import LoadResult, ServerSampler
from tests.load.scenario import LoadConfig, Target, drive
from tests.support.processes import free_port, running, uvicorn_args

LOAD_DATABASE_URL = os.environ.get("TETHER_LOAD_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tether_load")

# The per-credential and per-organisation limits exist to stop one tenant's runaway script.
# Here one organisation and two keys stand for 200 agents and 20 people, which in a real
# install would be many keys; left at their defaults they would answer this load with 429s
# and measure the limiter instead of the server.
LOAD_SETTINGS = {
    "TETHER_RATE_LIMIT_PER_CREDENTIAL": "1000000",
    "TETHER_RATE_LIMIT_PER_ORGANIZATION": "1000000",
}


def run_load(config: LoadConfig, tmp: Path, database_url: str = LOAD_DATABASE_URL) -> LoadResult:
    """A fresh database, the server, `config.pools` pools with a deployment each, then the load."""
    env = fresh_database(database_url, **LOAD_SETTINGS)
    keys = bootstrap(env)
    flows = write_flows(tmp / "flows")
    port = free_port()
    with (
        running(uvicorn_args(port, workers=server_workers()), env=env, log_path=tmp / "server.log", port=port) as web,
        httpx.Client(headers={"Authorization": f"Bearer {keys['api_key']}"}, timeout=30) as http,
    ):
        api_url = f"{web.url}/api/v1/orgs/acme/workspaces/prod"
        http.base_url = httpx.URL(api_url + "/")
        server = Server(web.url, api_url, keys["api_key"], keys["agent_key"], env, web.log_path, http)
        pools = [f"load-pool-{n}" for n in range(config.pools)]
        deployments = [server.deployment(pool, flows, entry="trivial") for pool in pools]
        ws_path = server.api_url.split("/api/v1/", 1)[1]
        target = Target(
            api_url=server.api_url,
            ws_url=server.url.replace("http://", "ws://", 1) + "/ws/v1/" + ws_path,
            api_key=keys["api_key"],
            agent_key=keys["agent_key"],
            pools=pools,
            deployments=deployments,
        )
        sampler = ServerSampler(root_pid=web.process.pid)
        sampler.start()
        load = asyncio.run(drive(config, target, on_tick=sampler.sample, on_stop=sampler.stop))
    return LoadResult(
        recorder=load.recorder,
        sampler=sampler,
        seconds=load.seconds,
        agents=config.agents,
        ui_users=config.ui_users,
        runs_created=load.runs_created,
        runs_completed=load.runs_completed,
    )
