"""Reads of concurrency limits, including the tag limits of task runs.

A tag limit is an ordinary limit named `tag:<tag>`: a task run tagged `db` holds a slot of
`tag:db` while it runs (the SDK acquires it as a lease), and a limit of 0 aborts such runs.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.db.models import QuerySet

from controlplane.concurrency.models import ConcurrencyLimit

TAG_LIMIT_PREFIX = "tag:"


def tag_limit_name(tag: str) -> str:
    return f"{TAG_LIMIT_PREFIX}{tag}"


def concurrency_limits_for(*, name_prefix: str = "", names: Iterable[str] = ()) -> QuerySet[ConcurrencyLimit]:
    limits = ConcurrencyLimit.objects.order_by("name")
    if name_prefix:
        limits = limits.filter(name__startswith=name_prefix)
    wanted = list(names)
    if wanted:
        limits = limits.filter(name__in=wanted)
    return limits


def tags_limited_to_zero(workspace_id: uuid.UUID) -> frozenset[str]:
    """The tags whose active tag limit is 0: task runs carrying one of them never run."""
    names = ConcurrencyLimit.objects.filter(
        workspace_id=workspace_id, name__startswith=TAG_LIMIT_PREFIX, active=True, limit=0
    ).values_list("name", flat=True)
    return frozenset(name.removeprefix(TAG_LIMIT_PREFIX) for name in names)
