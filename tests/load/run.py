"""The full load run: `python -m tests.load.run --minutes 10` (RELIABILITY case 40).

200 simulated agents and 20 UI users against the production-shaped server on loopback;
prints `BENCH load.*` figures and a latency table per request kind; exits 1 when the run
misses the bar (any 5xx, 1% errors or more, or a p95 of answered requests over 2 s: the
target, on two cores that the load generator shares with the server). Needs PostgreSQL and
Redis, like `make test`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from tests.load.scenario import LoadConfig
from tests.load.stack import LOAD_DATABASE_URL, run_load

MAX_ERROR_RATE = 0.01
P95_TARGET_SECONDS = 2.0


def main(argv: list[str] | None = None) -> int:
    defaults = LoadConfig()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=defaults.seconds / 60)
    parser.add_argument("--agents", type=int, default=defaults.agents)
    parser.add_argument("--ui-users", type=int, default=defaults.ui_users)
    parser.add_argument("--runs-per-second", type=float, default=defaults.runs_per_second)
    parser.add_argument("--long-poll-share", type=float, default=defaults.long_poll_share)
    parser.add_argument("--database-url", default=LOAD_DATABASE_URL, help="dropped and recreated")
    args = parser.parse_args(argv)
    config = LoadConfig(
        agents=args.agents,
        ui_users=args.ui_users,
        seconds=args.minutes * 60,
        runs_per_second=args.runs_per_second,
        long_poll_share=args.long_poll_share,
    )
    with tempfile.TemporaryDirectory() as tmp:
        result = run_load(config, Path(tmp), args.database_url)
    result.print_report()
    passed = (
        result.recorder.server_errors == 0
        and result.error_rate < MAX_ERROR_RATE
        and result.p95_seconds <= P95_TARGET_SECONDS
    )
    verdict = "PASSED" if passed else "FAILED"
    print(f"# load {verdict}: zero 5xx, under 1% errors, p95 within {P95_TARGET_SECONDS:.0f} s", flush=True)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
