"""Fixtures of the chaos suite: a private PostgreSQL and Redis per test process, a migrated template."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chaos.plane import Template, make_template, write_chaos_flows
from tests.chaos.services import PrivatePostgres, PrivateRedis, private_postgres_cluster, private_redis_server
from tests.support.processes import free_port


@pytest.fixture(scope="session")
def private_postgres() -> Iterator[PrivatePostgres]:
    """Never the shared 5432: tests may stop and restart this one."""
    with private_postgres_cluster(free_port()) as cluster:
        yield cluster


@pytest.fixture(scope="session")
def private_redis() -> Iterator[PrivateRedis]:
    """Never the shared 6379: tests may kill and restart this one."""
    with private_redis_server(free_port()) as server:
        yield server


@pytest.fixture(scope="session")
def template(
    private_postgres: PrivatePostgres, private_redis: PrivateRedis, tmp_path_factory: pytest.TempPathFactory
) -> Template:
    return make_template(private_postgres, private_redis, tmp_path_factory.mktemp("chaos-var"))


@pytest.fixture(autouse=True)
def _services_back(private_postgres: PrivatePostgres, private_redis: PrivateRedis) -> Iterator[None]:
    """A scenario that fails half-way must not leave the next one without its database or Redis."""
    yield
    if not private_postgres.running():
        private_postgres.start()
    if not private_redis.answers():
        private_redis.start()


@pytest.fixture
def flows(tmp_path: Path) -> Path:
    return write_chaos_flows(tmp_path / "flows")


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """Where the flows write their once-only markers."""
    directory = tmp_path / "out"
    directory.mkdir()
    return directory
