"""Rate limits: token buckets per credential and per organisation, in Redis or in-process."""

from __future__ import annotations

import logging
import time
import uuid

import pytest
from pytest_django.fixtures import Settings

from controlplane.core import ratelimit
from controlplane.core.ratelimit import Bucket, limits_for, take
from tests.support.clients import bearer
from tests.support.runs import PROD
from tests.support.tenants import World, service_account_key


@pytest.fixture(params=["redis", "in-process"])
def backend(request: pytest.FixtureRequest, settings: Settings) -> str:
    if request.param == "in-process":
        settings.REDIS_URL = None
    return str(request.param)


def _bucket(rate: float, burst: float) -> Bucket:
    return Bucket(name=f"tether:rl:test:{uuid.uuid4().hex}", rate=rate, burst=burst)


def test_a_burst_passes_then_the_bucket_refills_at_its_rate(backend: str) -> None:
    bucket = _bucket(rate=20, burst=5)
    assert [take([bucket]) for _ in range(5)] == [0.0] * 5
    wait = take([bucket])
    assert 0 < wait <= 1 / 20 + 0.01
    time.sleep(wait + 0.02)
    assert take([bucket]) == 0.0


def test_an_empty_bucket_takes_nothing_from_the_others(backend: str) -> None:
    credential, organization = _bucket(rate=1, burst=3), _bucket(rate=1, burst=1)
    assert take([credential, organization]) == 0.0
    assert take([credential, organization]) > 0  # the organisation is empty
    assert take([credential]) == 0.0
    assert take([credential]) == 0.0  # two tokens were left: the refused call took none
    assert take([credential]) > 0


def test_a_limit_of_zero_is_off(settings: Settings) -> None:
    settings.TETHER_RATE_LIMIT_PER_CREDENTIAL = 0
    settings.TETHER_RATE_LIMIT_PER_ORGANIZATION = 7
    settings.TETHER_RATE_LIMIT_BURST_SECONDS = 3
    (only,) = limits_for(credential="c", organization="o")
    assert (only.name, only.rate, only.burst) == ("tether:rl:org:o", 7.0, 21.0)


def test_redis_unreachable_lets_requests_through_and_says_so(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    ratelimit._last_warning = 0.0
    with caplog.at_level(logging.WARNING, logger="controlplane.core.ratelimit"):
        assert take([_bucket(rate=1, burst=1)]) == 0.0
    assert "Redis unreachable" in caplog.text


def test_a_flooding_key_gets_429_with_retry_after_and_another_tenant_does_not(world: World, settings: Settings) -> None:
    settings.TETHER_RATE_LIMIT_PER_CREDENTIAL = 1
    settings.TETHER_RATE_LIMIT_PER_ORGANIZATION = 1000
    settings.TETHER_RATE_LIMIT_BURST_SECONDS = 3
    _, acme_secret = service_account_key(world.alice, world.prod, "developer", name="flood")
    _, umbrella_secret = service_account_key(world.charlie, world.umbrella_prod, "developer", name="calm")
    flooding = bearer(acme_secret)
    answers = [flooding.get(f"{PROD}/flow-runs/") for _ in range(5)]
    assert [answer.status_code for answer in answers[:3]] == [200, 200, 200]
    refused = answers[3]
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert refused.json()["error"]["code"] == "throttled"
    calm = bearer(umbrella_secret).get("/api/v1/orgs/umbrella/workspaces/prod/flow-runs/")
    assert calm.status_code == 200


def test_the_organisation_limit_covers_all_its_keys(world: World, settings: Settings) -> None:
    settings.TETHER_RATE_LIMIT_PER_CREDENTIAL = 1000
    settings.TETHER_RATE_LIMIT_PER_ORGANIZATION = 1
    settings.TETHER_RATE_LIMIT_BURST_SECONDS = 2
    clients = [bearer(service_account_key(world.alice, world.prod, "viewer", name=f"v{i}")[1]) for i in range(3)]
    codes = [client.get(f"{PROD}/flow-runs/").status_code for client in clients]
    assert codes == [200, 200, 429]
