"""Without TETHER_API_URL a flow runs purely locally: a one-line notice, no HTTP at all."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tether import flow, task
from tether.exceptions import UpstreamTaskError


def test_a_flow_runs_untracked_without_http(tmp_path: Path) -> None:
    script = tmp_path / "local_flow.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys
            from tether import flow, task

            @task(retries=1)
            def inc(x):
                return x + 1

            @flow(log_prints=True)
            def local(n: int = 3):
                print("working")
                futures = inc.map(range(n))
                return sum(f.result() for f in futures) + inc(10)

            assert local() == 6 + 11
            assert local(n=1) == 1 + 11
            print("httpx" in sys.modules, file=sys.stdout)
            """
        )
    )
    env = {"PATH": "/usr/bin:/bin", "TETHER_RESULTS_DIR": str(tmp_path / "results")}
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"  # the HTTP client was never even imported
    notices = [line for line in result.stderr.splitlines() if "TETHER_API_URL is not set" in line]
    assert len(notices) == 1
    assert "working" in result.stderr  # log_prints: print went to the run logger


def test_states_futures_and_failures_locally(untracked: Path) -> None:
    @task
    def fail() -> int:
        raise KeyError("missing")

    @task
    def after(x: int) -> int:
        return x

    @flow
    def local_failure() -> int:
        result: int = after.submit(fail.submit()).result()
        return result

    state = local_failure(return_state=True)
    assert state.is_failed()
    with pytest.raises(UpstreamTaskError):
        state.result()


def test_cache_hits_locally(untracked: Path) -> None:
    calls: list[int] = []

    @task(cache_key_fn=lambda ctx, params: f"square-{params['x']}")
    def square(x: int) -> int:
        calls.append(x)
        return x * x

    @flow
    def squares() -> list[int]:
        return [square(2), square(2), square(3)]

    assert squares() == [4, 4, 9]
    assert squares() == [4, 4, 9]
    assert calls == [2, 3]
    assert (untracked / "results" / "square-2").exists()


def test_tasks_can_be_called_outside_a_flow(untracked: Path) -> None:
    @task
    def plain(x: int) -> int:
        return x + 1

    assert plain(1) == 2
    assert plain.submit(2).result() == 3
