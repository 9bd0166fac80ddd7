"""Flows written exactly as for Prefect 3; only the imports say `tether` instead of `prefect`."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from tether_dask import DaskTaskRunner

from tether import flow, get_run_logger, pause_flow_run, task
from tether.cache_policies import INPUTS
from tether.context import get_run_context
from tether.deployments import run_deployment
from tether.events import emit_event
from tether.futures import as_completed, wait
from tether.input import RunInput
from tether.tasks import exponential_backoff, task_input_hash
from tether.transactions import transaction
from tether.utilities.annotations import unmapped

CALLS: dict[str, int] = {}
HOOKS: list[str] = []


def _count(key: str) -> int:
    CALLS[key] = CALLS.get(key, 0) + 1
    return CALLS[key]


# --- retries with delays ---


@task(retries=2, retry_delay_seconds=[0.1, 0.2])
def flaky_fetch(url: str) -> str:
    if _count("flaky_fetch") < 3:
        raise ConnectionError(f"cannot reach {url}")
    return f"payload of {url}"


@task(retries=3, retry_delay_seconds=exponential_backoff(backoff_factor=0.05), retry_jitter_factor=0.5)
def flaky_backoff() -> int:
    if _count("flaky_backoff") < 2:
        raise RuntimeError("transient")
    return 1


@flow(retries=1, retry_delay_seconds=0.1)
def retrying_etl(url: str = "https://example.com") -> str:
    flaky_backoff()
    if _count("retrying_etl") < 2:
        raise ValueError("the flow itself failed once")
    return flaky_fetch(url)


# --- caching across runs ---


@task(cache_key_fn=task_input_hash, cache_expiration=timedelta(hours=1))
def expensive_square(x: int) -> int:
    _count("expensive_square")
    return x * x


@task(cache_policy=INPUTS, persist_result=True)
def expensive_cube(x: int) -> int:
    _count("expensive_cube")
    return x * x * x


@flow
def cached_math(x: int) -> int:
    return expensive_square(x) + expensive_cube(x)


# --- map over 100 items ---


@task
def double(x: int, offset: int = 0) -> int:
    return 2 * x + offset


@task
def total(values: list[int]) -> int:
    return sum(values)


@flow
def map_hundred(n: int = 100) -> int:
    doubled = double.map(range(n), offset=unmapped(1))
    result: int = total.submit(doubled).result()
    return result


# --- futures between tasks ---


@task
def extract() -> list[int]:
    return [1, 2, 3]


@task
def transform(rows: list[int]) -> list[int]:
    return [r * 10 for r in rows]


@task
def load(rows: list[int], raw: list[int]) -> int:
    return sum(rows) + len(raw)


@flow
def futures_pipeline() -> int:
    raw = extract.submit()
    rows = transform.submit(raw)
    loaded = load.submit(rows, raw, wait_for=[raw])
    done, not_done = wait([raw, rows, loaded])
    assert not not_done
    assert len(done) == 3
    result: int = loaded.result()
    return result


@flow
def as_completed_flow() -> list[int]:
    futures = [double.submit(i) for i in range(5)]
    return sorted(f.result() for f in as_completed(futures))


# --- failure propagation ---


@task
def explode() -> int:
    raise ValueError("kaboom")


@task
def downstream(value: int) -> int:
    _count("downstream")
    return value + 1


@flow
def failing_pipeline() -> int:
    boom = explode.submit()
    after = downstream.submit(boom)
    result: int = after.result()
    return result


@flow
def tolerant_pipeline() -> str:
    state = explode(return_state=True)
    return "recovered" if state.is_failed() else "unexpected"


# --- subflows ---


@flow
def child(x: int) -> int:
    get_run_logger().info("child got %d", x)
    return double(x)


@flow
def parent() -> int:
    return child(5) + child(6)


# --- async ---


@task
async def async_fetch(i: int) -> int:
    await asyncio.sleep(0.01)
    return i * 3


@flow
async def async_flow(n: int = 4) -> int:
    values = await asyncio.gather(*(async_fetch(i) for i in range(n)))
    submitted: int = async_fetch.submit(10).result()
    return sum(values) + submitted


# --- timeouts ---


@task(timeout_seconds=0.3)
def slow_task() -> str:
    time.sleep(3)
    return "too late"


@flow
def timeout_tasks() -> str:
    state = slow_task(return_state=True)
    return state.name


@flow(timeout_seconds=0.3)
def slow_flow() -> None:
    time.sleep(3)


# --- hooks ---


def record_task_hook(task, task_run, state):
    HOOKS.append(f"task:{task.name}:{state.name}")


def record_flow_hook(flow, flow_run, state):
    HOOKS.append(f"flow:{flow.name}:{state.name}")


@task(on_completion=[record_task_hook], on_failure=[record_task_hook])
def hooked_task(fail: bool) -> str:
    if fail:
        raise RuntimeError("hooked failure")
    return "ok"


@flow(on_completion=[record_flow_hook], on_failure=[record_flow_hook])
def hooked_flow(fail: bool = False) -> str:
    hooked_task(False)
    return hooked_task(fail)


# --- logs and prints ---


@flow(log_prints=True)
def chatty(lines: int = 3) -> None:
    logger = get_run_logger()
    for i in range(lines):
        logger.info("line %d", i)
    print("printed from the flow")
    shout()


@task
def shout() -> None:
    get_run_logger().warning("from a task")


# --- pause and resume with typed input ---


class Approval(RunInput):
    approved: bool
    reviewer: str
    comment: str = ""


@dataclass
class Quantity:
    count: int
    unit: str = "items"


@task
def prepare_report() -> str:
    return "report-v1"


@task
def publish(report: str, reviewer: str) -> str:
    return f"{report} approved by {reviewer}"


@flow
def approval_flow() -> str:
    report = prepare_report()
    approval = pause_flow_run(wait_for_input=Approval, timeout=120, poll_interval=0.2)
    if not approval.approved:
        return f"rejected: {approval.comment}"
    return publish(report, approval.reviewer)


@flow
def quantity_flow() -> int:
    first = pause_flow_run(wait_for_input=Quantity, timeout=120, poll_interval=0.2)
    pause_flow_run(timeout=120, poll_interval=0.2)  # a plain approval, no input
    return first.count * 2


@flow
def unattended_pause() -> str:
    pause_flow_run(timeout=0.5, poll_interval=0.1)
    return "nobody answered, yet here we are"


# --- transactions with rollback ---

LEDGER: list[str] = []


@task
def write_file(path: str, contents: str) -> str:
    Path(path).write_text(contents)
    return path


@write_file.on_rollback
def delete_file(transaction):
    Path(transaction.get("path")).unlink()
    HOOKS.append("rollback:delete_file")


@write_file.on_commit
def announce_file(transaction):
    HOOKS.append("commit:announce_file")


@task
def append_ledger(entry: str) -> None:
    LEDGER.append(entry)


@append_ledger.on_rollback
def pop_ledger(transaction):
    LEDGER.pop()
    HOOKS.append("rollback:pop_ledger")


@task
def quality_test(path: str, min_lines: int) -> None:
    if len(Path(path).read_text().splitlines()) < min_lines:
        raise ValueError("Not enough data!")


@flow
def transactional_pipeline(path: str, contents: str, min_lines: int = 2) -> str:
    with transaction() as txn:
        txn.set("path", path)
        write_file(path, contents)
        append_ledger(path)
        quality_test(path, min_lines)
    return "committed"


# --- run_deployment and emit_event ---


@flow
def orchestrator(region: str = "eu") -> str:
    emit_event(
        event="acme.report.requested",
        resource={"tether.resource.id": f"acme.region.{region}"},
        payload={"region": region},
    )
    run = run_deployment(
        "report-worker/regional",
        parameters={"region": region},
        timeout=0,
        idempotency_key=f"report-{region}",
    )
    return run.id


# --- Dask task runner ---


@task(retries=1)
def dask_square(x: int) -> int:
    get_run_logger().info("squaring %d", x)
    if x == 5 and get_run_context().task_run.run_count == 1:  # type: ignore[union-attr]
        raise ConnectionError("worker hiccup")
    return x * x


@task
def dask_total(squares: list[int]) -> int:
    get_run_logger().info("adding %d squares", len(squares))
    return sum(squares)


@flow(task_runner=DaskTaskRunner())
def dask_map(n: int = 20) -> int:
    squares = dask_square.map(range(n))
    total: int = dask_total.submit(squares).result()
    return total


# --- results and cache records in fsspec storage ---


@task(cache_key_fn=task_input_hash, persist_result=True)
def fetch_rates(day: str) -> dict[str, float]:
    _count("fetch_rates")
    return {"EUR": 1.0, "USD": 1.08, "day": float(day[-2:])}


@task(persist_result=True, result_storage_key="report-{day}")
def render_report(day: str, rates: dict[str, float]) -> str:
    _count("render_report")
    return f"{day}: USD {rates['USD']}"


@flow(persist_result=True)
def stored_report(day: str = "2026-01-02") -> str:
    rates = fetch_rates(day)
    return render_report(day, rates)
