"""One execution per Celery task id for tasks with an ETA, however often Redis re-delivers them (RELIABILITY 34)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import redis
from django.conf import settings

from controlplane.celery import app
from controlplane.core.celery_once import _key

calls: list[str] = []


@app.task(name="tests.celery_once.record")  # type: ignore[untyped-decorator]
def record(label: str) -> str:
    calls.append(label)
    if label == "fail":
        raise RuntimeError("fails")
    return label


def _deliver(task_id: str, label: str, *, eta: datetime | None) -> Any:
    """What a worker does with one delivery of a message: run the task with that request."""
    record.push_request(id=task_id, eta=eta.isoformat() if eta else None, is_eager=False)
    try:
        return record(label)
    finally:
        record.pop_request()


def _redis() -> redis.Redis:
    assert settings.REDIS_URL
    return redis.Redis.from_url(settings.REDIS_URL)


@pytest.fixture(autouse=True)
def _clean() -> Any:
    calls.clear()
    yield
    calls.clear()


def test_a_task_with_an_eta_runs_once_per_id_and_others_are_not_guarded() -> None:
    task_id = str(uuid.uuid4())
    eta = datetime.now(UTC)
    assert _deliver(task_id, "first", eta=eta) == "first"
    assert _deliver(task_id, "again", eta=eta) is None  # re-delivered after the visibility timeout
    plain = str(uuid.uuid4())
    _deliver(plain, "tick-1", eta=None)
    _deliver(plain, "tick-2", eta=None)
    assert calls == ["first", "tick-1", "tick-2"]
    assert _redis().ttl(_key(task_id)) > 3600


def test_a_failed_execution_releases_its_claim_so_the_next_delivery_runs() -> None:
    task_id = str(uuid.uuid4())
    eta = datetime.now(UTC)
    with pytest.raises(RuntimeError):
        _deliver(task_id, "fail", eta=eta)
    assert not _redis().exists(_key(task_id))
    assert _deliver(task_id, "retried", eta=eta) == "retried"
    assert calls == ["fail", "retried"]
