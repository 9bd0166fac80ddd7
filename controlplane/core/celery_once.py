"""One execution per Celery task id, whatever the broker delivers (RELIABILITY 34).

With Redis as the broker, a message a worker holds unacknowledged for longer than the
visibility timeout (a task waiting for its countdown or ETA) is put back on the queue and
delivered again, over and over until it runs, and then every copy runs. The task id names
the message, so each execution of a task with an ETA first claims the id in Redis: the first
copy runs, the others are skipped. The claim lasts the visibility timeout while the task runs (a worker killed
mid-task leaves a claim that expires just as the broker re-delivers the message, which then
runs again: at-least-once survives) and a day once it has finished.

If Redis cannot be asked, the task runs: every task here is idempotent, so a rare duplicate
is harmless, while a skipped task might not be.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

import redis
from celery import Task
from django.conf import settings

logger = logging.getLogger(__name__)

FINISHED_TTL_SECONDS = 24 * 3600
_RUNNING = "running"
_FINISHED = "finished"


@cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)


def _key(task_id: str) -> str:
    return f"tether:celery-once:{task_id}"


def _claim(task_id: str) -> bool:
    """True when this delivery may run the task: nobody ran it or is running it."""
    url = settings.REDIS_URL
    if not url:
        return True
    try:
        claimed = _client(url).set(_key(task_id), _RUNNING, nx=True, ex=settings.CELERY_VISIBILITY_TIMEOUT_SECONDS)
    except redis.RedisError:
        logger.warning("task %s runs unguarded: Redis unreachable", task_id, exc_info=True)
        return True
    return bool(claimed)


def _finish(task_id: str) -> None:
    url = settings.REDIS_URL
    if not url:
        return
    try:
        _client(url).set(
            _key(task_id), _FINISHED, ex=max(FINISHED_TTL_SECONDS, settings.CELERY_VISIBILITY_TIMEOUT_SECONDS)
        )
    except redis.RedisError:
        logger.warning("task %s: its completion could not be recorded", task_id, exc_info=True)


def _release(task_id: str) -> None:
    url = settings.REDIS_URL
    if not url:
        return
    try:
        _client(url).delete(_key(task_id))
    except redis.RedisError:
        logger.warning("task %s: its claim could not be released", task_id, exc_info=True)


class OncePerTaskId(Task):  # type: ignore[misc]
    """The project's task class (`Celery(task_cls=...)`): skips deliveries of a task id already claimed."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        task_id = self.request.id
        # Only a task with a countdown or ETA waits in a worker unacknowledged; the others (beat's
        # ticks, many a second) are acknowledged as they finish and need no bookkeeping in Redis.
        if task_id is None or self.request.is_eager or not self.request.eta:
            return super().__call__(*args, **kwargs)
        if not _claim(task_id):
            logger.info("Task %s[%s] delivered again after it ran or while it runs: skipped", self.name, task_id)
            return None
        try:
            result = super().__call__(*args, **kwargs)
        except BaseException:
            _release(task_id)  # a failure (or a Retry, which keeps the id) may run again
            raise
        _finish(task_id)
        return result
