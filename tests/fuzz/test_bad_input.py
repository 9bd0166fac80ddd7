"""Hostile input against the real server process (uvicorn, production settings): RELIABILITY cases 25, 26, 27, 30.

Each case answers a clear 4xx (never a 5xx), fast, naming the limit where there is one, and the
server's resident memory stays bounded: the peak RSS (VmHWM) of the server process may grow by
at most `RSS_GROWTH_LIMIT` over the whole module, 50 MB bodies included.
"""

from __future__ import annotations

import base64
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.agent_support import bootstrap, fresh_database
from tests.support.processes import free_port, running, uvicorn_args

pytestmark = pytest.mark.e2e

DATABASE_URL = os.environ.get("TETHER_FUZZ_E2E_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tether_fuzz_e2e")
MB = 1024 * 1024
BODY_LIMIT = 5 * MB  # DATA_UPLOAD_MAX_MEMORY_SIZE's default (TETHER_MAX_BODY_BYTES)
RSS_GROWTH_LIMIT = 100 * MB
# "Fast" on a loaded 2-core machine: moving 50 MB over loopback and refusing it takes well under a second
# when idle; the bound leaves room for the other suites sharing the CPU.
FAST_SECONDS = 15.0


@dataclass
class LiveServer:
    pid: int
    http: httpx.Client  # based at the acme/prod workspace API, with a developer key
    log_path: Path
    warm_peak_rss: int = 0

    def peak_rss(self) -> int:
        return _status_bytes(self.pid, "VmHWM")

    def rss(self) -> int:
        return _status_bytes(self.pid, "VmRSS")


def _status_bytes(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"{field} not in /proc/{pid}/status")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = fresh_database(DATABASE_URL)
    keys = bootstrap(env)
    port = free_port()
    log_path = tmp_path_factory.mktemp("fuzz-server") / "server.log"
    with running(uvicorn_args(port), env=env, log_path=log_path, port=port) as process:
        base = f"{process.url}/api/v1/orgs/acme/workspaces/prod/"
        headers = {"Authorization": f"Bearer {keys['api_key']}"}
        with httpx.Client(base_url=base, headers=headers, timeout=120) as http:
            live = LiveServer(pid=process.process.pid, http=http, log_path=log_path)
            http.get("flow-runs/").raise_for_status()  # warm: imports and connections are not growth
            live.warm_peak_rss = live.peak_rss()
            yield live


def _timed(call: Any, *args: Any, **kwargs: Any) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = call(*args, **kwargs)
    return response, time.monotonic() - started


def _error(response: httpx.Response, *statuses: int) -> dict[str, Any]:
    assert response.status_code in statuses, (response.status_code, response.text[:500])
    body: dict[str, Any] = response.json()["error"]
    assert body["code"]
    assert body["message"]
    return body


@pytest.fixture(scope="module")
def flow_run_id(server: LiveServer) -> str:
    pool = server.http.post("work-pools/", json={"name": "fuzz-pool"})
    assert pool.status_code == 201, pool.text
    deployment = server.http.post(
        "deployments/",
        json={
            "flow_name": "fuzz",
            "name": "fuzz",
            "entrypoint": "flows.py:fuzz",
            "source": {"type": "path", "path": "/srv/flows"},
            "work_pool_name": "fuzz-pool",
        },
    )
    assert deployment.status_code == 201, deployment.text
    run = server.http.post("flow-runs/", json={"deployment_id": deployment.json()["id"], "parameters": {}})
    assert run.status_code == 201, run.text
    return str(run.json()["id"])


# --- case 25: huge bodies, deep JSON, huge arrays -------------------------------------------------


def test_case_25_fifty_megabyte_body_is_413_fast(server: LiveServer) -> None:
    body = b"x" * (50 * MB)
    response, seconds = _timed(server.http.post, "events/", content=body, headers={"Content-Type": "application/json"})
    error = _error(response, 413)
    assert error["details"]["limit_bytes"] == BODY_LIMIT
    assert seconds < FAST_SECONDS, seconds


def test_case_25_fifty_megabyte_chunked_body_without_length_is_refused(server: LiveServer) -> None:
    def chunks() -> Iterator[bytes]:
        block = b"[" + b"0," * (MB // 2 - 1) + b"0]"
        for _ in range(50):
            yield block

    response, seconds = _timed(
        server.http.post, "events/", content=chunks(), headers={"Content-Type": "application/json"}
    )
    _error(response, 413)
    assert seconds < FAST_SECONDS, seconds


def test_case_25_json_nested_ten_thousand_deep_is_400(server: LiveServer) -> None:
    deep = "[" * 10_000 + "]" * 10_000
    response, seconds = _timed(
        server.http.post, "variables/", content=deep.encode(), headers={"Content-Type": "application/json"}
    )
    error = _error(response, 400)
    assert "nest" in error["message"]
    assert seconds < FAST_SECONDS, seconds


def test_case_25_array_of_a_million_objects_is_400_while_parsing(server: LiveServer) -> None:
    million = b"[" + b"{}," * 999_999 + b"{}]"  # 3 MB: under the byte limit, ~64 MB once built as dicts
    assert len(million) < BODY_LIMIT
    for path in ("events/", "logs/", "variables/"):
        response, seconds = _timed(
            server.http.post, path, content=million, headers={"Content-Type": "application/json"}
        )
        error = _error(response, 400)
        assert "100000 objects" in error["message"], error  # names the limit
        assert seconds < FAST_SECONDS, (path, seconds)


def test_case_25_array_of_a_million_numbers_is_413_naming_the_batch_limit(server: LiveServer) -> None:
    million = b"[" + b"0," * 999_999 + b"0]"
    for path, detail in (("events/", "limit_events"), ("logs/", "limit_lines")):
        response, seconds = _timed(
            server.http.post, path, content=million, headers={"Content-Type": "application/json"}
        )
        error = _error(response, 413)
        assert detail in error["details"], error
        assert seconds < FAST_SECONDS, (path, seconds)


# --- case 26: page sizes, offsets, cursors ---------------------------------------------------------


def test_case_26_page_size_of_a_million_is_capped(server: LiveServer) -> None:
    now = datetime.now(UTC).isoformat()
    batch = [
        {"id": str(uuid.uuid4()), "occurred": now, "event": "fuzz.tick", "resource": {"tether.resource.id": f"r{n}"}}
        for n in range(250)
    ]
    accepted = server.http.post("events/", json=batch)
    assert accepted.status_code == 202, accepted.text
    response, seconds = _timed(server.http.get, "events/", params={"page_size": 1_000_000, "event": "fuzz.tick"})
    assert response.status_code == 200, response.text
    page = response.json()
    assert len(page["results"]) == 200  # max_page_size, not a million and not the 250 there are
    assert page["next"]
    assert seconds < FAST_SECONDS, seconds


@pytest.mark.parametrize("page_size", ["-1", "0", "abc", "1e9", "99999999999999999999999"])
def test_case_26_nonsense_page_sizes_fall_back_to_the_default(server: LiveServer, page_size: str) -> None:
    response = server.http.get("flow-runs/", params={"page_size": page_size})
    assert response.status_code == 200, response.text
    assert len(response.json()["results"]) <= 200


def _cursor(raw: str) -> str:
    return base64.b64encode(raw.encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "%%%",
        _cursor("o=-5&p=2026-01-01"),  # a negative offset
        _cursor("o=0&p=not-a-date"),
        _cursor("p=\x00"),
        "A" * 10_000,
    ],
)
def test_case_26_malformed_cursors_and_negative_offsets_are_400(server: LiveServer, cursor: str) -> None:
    for path in ("flow-runs/", "events/", "deployments/"):
        response = server.http.get(path, params={"cursor": cursor})
        error = _error(response, 400)
        assert "cursor" in error["details"], error


def test_case_26_huge_cursor_offsets_are_capped(server: LiveServer) -> None:
    for path in ("flow-runs/", "events/"):
        response = server.http.get(path, params={"cursor": _cursor("o=99999999999999999999&r=1")})
        assert response.status_code == 200, response.text
        assert len(response.json()["results"]) <= 200


def test_case_26_offset_parameters_are_not_errors(server: LiveServer) -> None:
    """Lists page by cursor only: offset/limit parameters (any value) are ignored, never a 5xx."""
    response = server.http.get("flow-runs/", params={"offset": "-10", "limit": "-1"})
    assert response.status_code == 200, response.text


# --- case 27: NUL bytes, invalid UTF-8, huge names ------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b'{"name": "nul\\u0000here", "value": 1}',
        b'{"name": "nul\x00raw", "value": 1}',
        b'{"name": "lone \\ud800 surrogate", "value": 1}',
        b'{"name": "\xff\xfe invalid utf-8", "value": 1}',
        b'{"na\\u0000me": "x", "value": 1}',
        b'{"name": "ok", "value": {"nested": ["\\u0000"]}}',
    ],
    ids=["escaped-nul", "raw-nul", "lone-surrogate", "invalid-utf8", "nul-in-key", "nested-nul"],
)
def test_case_27_unstorable_text_in_bodies_is_400(server: LiveServer, body: bytes) -> None:
    response = server.http.post("variables/", content=body, headers={"Content-Type": "application/json"})
    _error(response, 400)


LISTS = ("deployments/", "events/", "variables/", "task-runs/", "flow-runs/")


@pytest.mark.parametrize("query", [b"name=a%00b", b"flow_name=%00", b"task_name=x%00y", b"q%00=1"])
def test_case_27_nul_in_query_strings_is_400(server: LiveServer, query: bytes) -> None:
    for path in LISTS:
        response = server.http.get(server.http.base_url.join(path).copy_with(query=query))
        _error(response, 400)


@pytest.mark.parametrize("query", [b"name=%ff%fe", b"event=%c0%80", b"tag=%ed%a0%80"])
def test_case_27_invalid_utf8_in_query_strings_is_never_a_5xx(server: LiveServer, query: bytes) -> None:
    # Django decodes query strings with replacement characters: a filter that matches nothing, or a 4xx.
    for path in LISTS:
        response = server.http.get(server.http.base_url.join(path).copy_with(query=query))
        assert 200 <= response.status_code < 500, (path, query, response.status_code, response.text[:300])


def test_case_27_nul_and_invalid_utf8_in_the_path_are_4xx(server: LiveServer) -> None:
    for suffix in ("flow-runs/%00/", "flow-runs/%ff%fe/", "deployments/a%00b/", "work-pools/%c0%80/"):
        url = server.http.base_url.join(suffix)
        response = server.http.get(url)
        assert 400 <= response.status_code < 500, (suffix, response.status_code, response.text[:300])


@pytest.mark.parametrize(
    ("path", "field"),
    [("work-pools/", "name"), ("variables/", "name"), ("flows/", "name"), ("automations/", "name")],
)
def test_case_27_hundred_kilobyte_names_are_400(server: LiveServer, path: str, field: str) -> None:
    response = server.http.post(path, json={field: "n" * 100_000, "value": 1})
    error = _error(response, 400)
    assert field in error["details"], error


# --- case 30: parameters, log lines and log batches over their limits ----------------------------


def test_case_30_parameters_over_512_kib_are_422_naming_the_limit(server: LiveServer, flow_run_id: str) -> None:
    deployment_id = server.http.get(f"flow-runs/{flow_run_id}/").json()["deployment_id"]
    parameters = {"blob": "p" * (512 * 1024 + 1)}
    response = server.http.post("flow-runs/", json={"deployment_id": deployment_id, "parameters": parameters})
    error = _error(response, 422)
    assert error["details"]["limit_bytes"] == 512 * 1024
    assert "512" in error["message"] or "524288" in error["message"], error


def _line(flow_run_id: str, seq: int, message: str) -> dict[str, Any]:
    return {
        "flow_run_id": flow_run_id,
        "seq": seq,
        "level": 20,
        "message": message,
        "timestamp": datetime.now(UTC).isoformat(),
    }


def test_case_30_log_line_over_its_limit_is_refused_naming_it(server: LiveServer, flow_run_id: str) -> None:
    response = server.http.post("logs/", json=[_line(flow_run_id, 0, "m" * (32 * 1024 + 1))])
    error = _error(response, 413, 422)
    assert error["details"]["limit_bytes"] == 32 * 1024
    assert error["details"]["index"] == 0


def test_case_30_log_batch_over_its_line_count_is_413_naming_it(server: LiveServer, flow_run_id: str) -> None:
    response = server.http.post("logs/", json=[_line(flow_run_id, seq, "x") for seq in range(1_001)])
    error = _error(response, 413)
    assert error["details"]["limit_lines"] == 1_000


def test_case_30_log_batch_over_its_bytes_is_413_naming_it(server: LiveServer, flow_run_id: str) -> None:
    lines = [_line(flow_run_id, seq, "b" * (30 * 1024)) for seq in range(40)]  # 1.2 MiB of messages
    response = server.http.post("logs/", json=lines)
    error = _error(response, 413)
    assert error["details"]["limit_bytes"] == 1024 * 1024


def test_case_30_event_over_its_limit_is_413_naming_it(server: LiveServer) -> None:
    event = {
        "id": str(uuid.uuid4()),
        "occurred": datetime.now(UTC).isoformat(),
        "event": "fuzz.big",
        "resource": {"tether.resource.id": "big"},
        "payload": {"blob": "e" * (64 * 1024 + 1)},
    }
    response = server.http.post("events/", json=[event])
    error = _error(response, 413)
    assert error["details"]["limit_bytes"] == 64 * 1024


def test_server_stayed_bounded_and_never_failed(server: LiveServer) -> None:
    """Last in the module: everything above together grew the server's peak RSS by less than the bound."""
    grown = server.peak_rss() - server.warm_peak_rss
    print(f"server peak RSS grew by {grown / MB:.1f} MB (now {server.rss() / MB:.1f} MB)")
    assert grown < RSS_GROWTH_LIMIT, f"server peak RSS grew by {grown / MB:.1f} MB"
    log = server.log_path.read_text(errors="replace")
    assert "Traceback" not in log, log[-3000:]
