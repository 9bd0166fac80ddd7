"""Result storage at fsspec URLs: values and cache records stay in the customer's storage."""

from __future__ import annotations

import pickle
import time
import uuid
from pathlib import Path

import pytest

from tether import flow, task
from tether.results import ResultStore


def test_memory_url_round_trip_and_expiry() -> None:
    store = ResultStore(f"memory://tether-{uuid.uuid4().hex}/results")
    assert store.url is not None
    assert store.read("missing") is None
    store.write("answer", {"value": 42})
    store.write("stale", "old", expires_at=time.time() - 1)
    record = store.read("answer")
    assert record is not None
    assert (record.value, record.expired()) == ({"value": 42}, False)
    stale = store.read("stale")
    assert stale is not None
    assert stale.expired()
    assert store.exists("answer")
    assert not store.exists("missing")
    with pytest.raises(ValueError, match="Invalid storage key"):
        store.write("../escape", 1)


def test_json_serializer_and_a_corrupt_record_is_a_miss(tmp_path: Path) -> None:
    store = ResultStore(f"file://{tmp_path}/json", serializer="json")
    store.write("k", [1, 2])
    assert (tmp_path / "json" / "k").read_bytes().startswith(b"{")
    (tmp_path / "json" / "broken").write_bytes(b"\x80not a pickle")
    record = store.read("k")
    assert record is not None
    assert record.value == [1, 2]
    assert store.read("broken") is None


def test_a_store_travels_as_its_address() -> None:
    store = ResultStore(f"memory://tether-{uuid.uuid4().hex}")
    store.write("k", "v")
    copy = pickle.loads(pickle.dumps(store))
    assert copy._fs is None  # no live filesystem handle crosses a process boundary
    record = copy.read("k")
    assert record is not None
    assert record.value == "v"


def test_a_local_directory_needs_no_fsspec(tmp_path: Path) -> None:
    store = ResultStore(tmp_path / "local")
    store.write("k", 1)
    assert store.url is None
    assert store._fs is None
    assert (tmp_path / "local" / "k").exists()


def test_tasks_cache_into_an_fsspec_store_untracked(untracked: Path) -> None:
    url = f"memory://tether-{uuid.uuid4().hex}"
    calls: list[int] = []

    @task(cache_policy=None, persist_result=True, result_storage=url, result_storage_key="double-{x}")
    def double(x: int) -> int:
        calls.append(x)
        return 2 * x

    @flow
    def doubling(x: int) -> int:
        return double(x)

    assert doubling(21) == 42
    record = ResultStore(url).read("double-21")
    assert record is not None
    assert record.value == 42
    assert not (untracked / "results").exists()
