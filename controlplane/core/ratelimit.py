"""Per-credential and per-organisation request rate limits (token buckets).

Each API request takes one token from its credential's bucket (API key, run token or signed-in
user) and one from its organisation's; when either is empty the request answers 429 with
`Retry-After` and takes nothing. Buckets refill at `rate` tokens a second up to `burst`.

In production the buckets live in Redis, so every web replica shares them; one Lua call per
request checks and takes both atomically. Without Redis (the embedded mode, one process) they
live in this process. A limiter that cannot reach Redis lets requests through and says so in
the log: losing rate limits for a while is better than refusing every tenant (RELIABILITY 36).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from functools import cache
from typing import Any

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

# KEYS: bucket names. ARGV: now (s), then rate and burst per bucket. Returns 0 when every bucket
# had a token (one taken from each), else the seconds until the emptiest one has one again.
_TAKE_ALL = """
local now = tonumber(ARGV[1])
local levels = {}
local wait = 0
for i, key in ipairs(KEYS) do
  local rate = tonumber(ARGV[2 * i])
  local burst = tonumber(ARGV[2 * i + 1])
  local state = redis.call('HMGET', key, 'tokens', 'at')
  local tokens = tonumber(state[1]) or burst
  local at = tonumber(state[2]) or now
  tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
  levels[i] = tokens
  if tokens < 1 then wait = math.max(wait, (1 - tokens) / rate) end
end
if wait > 0 then return tostring(wait) end
for i, key in ipairs(KEYS) do
  local rate = tonumber(ARGV[2 * i])
  local burst = tonumber(ARGV[2 * i + 1])
  redis.call('HSET', key, 'tokens', levels[i] - 1, 'at', now)
  redis.call('EXPIRE', key, math.ceil(burst / rate) + 1)
end
return '0'
"""


@dataclass(frozen=True)
class Bucket:
    name: str
    rate: float  # tokens per second
    burst: float


def limits_for(*, credential: str, organization: str) -> list[Bucket]:
    """The buckets a request takes from; a limit set to 0 is off."""
    burst_seconds = settings.TETHER_RATE_LIMIT_BURST_SECONDS
    buckets = []
    for name, rate in (
        (f"tether:rl:cred:{credential}", settings.TETHER_RATE_LIMIT_PER_CREDENTIAL),
        (f"tether:rl:org:{organization}", settings.TETHER_RATE_LIMIT_PER_ORGANIZATION),
    ):
        if rate > 0:
            buckets.append(Bucket(name=name, rate=float(rate), burst=max(1.0, rate * burst_seconds)))
    return buckets


def take(buckets: list[Bucket]) -> float:
    """Take a token from every bucket, or none: 0.0 when taken, else seconds to wait."""
    if not buckets:
        return 0.0
    if settings.REDIS_URL:
        return _take_in_redis(buckets)
    return _LOCAL.take(buckets)


@cache
def _redis_script(url: str) -> Any:
    client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
    return client.register_script(_TAKE_ALL)


_last_warning = 0.0


def _take_in_redis(buckets: list[Bucket]) -> float:
    global _last_warning
    args: list[float] = [time.time()]
    for bucket in buckets:
        args.extend((bucket.rate, bucket.burst))
    try:
        answer = _redis_script(settings.REDIS_URL)(keys=[bucket.name for bucket in buckets], args=args)
    except redis.RedisError:
        if time.monotonic() - _last_warning > 60:
            _last_warning = time.monotonic()
            logger.warning("rate limits not enforced: Redis unreachable", exc_info=True)
        return 0.0
    return float(answer)


class _LocalBuckets:
    """The same buckets in this process's memory (embedded mode)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: dict[str, tuple[float, float]] = {}

    def take(self, buckets: list[Bucket]) -> float:
        now = time.monotonic()
        with self._lock:
            levels = []
            wait = 0.0
            for bucket in buckets:
                tokens, at = self._state.get(bucket.name, (bucket.burst, now))
                tokens = min(bucket.burst, tokens + max(0.0, now - at) * bucket.rate)
                levels.append(tokens)
                if tokens < 1:
                    wait = max(wait, (1 - tokens) / bucket.rate)
            if wait > 0:
                return wait
            for bucket, tokens in zip(buckets, levels, strict=True):
                self._state[bucket.name] = (tokens - 1, now)
            return 0.0


_LOCAL = _LocalBuckets()
