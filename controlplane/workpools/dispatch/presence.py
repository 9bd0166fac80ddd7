"""Agent presence events: `tether.agent.online` and `tether.agent.offline`, once per transition.

An agent's status is computed from `last_seen_at` (selectors.agent_status); these events mark
its changes. `online` is recorded when an agent is heard from (hello, claim, heartbeat) for the
first time or after it went offline; `offline` by the periodic pass, when it has been silent
for `MISSED_HEARTBEATS_OFFLINE` heartbeats. The last presence event of an agent says what was
last announced, so the two alternate, and neither repeats on every heartbeat: a heartbeat of an
agent seen recently costs the single UPDATE it always cost.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import CharField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from controlplane.events.models import Event
from controlplane.events.services import event_build, events_record, resource
from controlplane.workpools.dispatch.timings import dispatch_timings
from controlplane.workpools.models import Agent

ONLINE = "tether.agent.online"
OFFLINE = "tether.agent.offline"
# Agents silent for longer than this before the pass first saw them are not announced offline:
# it bounds the rows every pass looks at (agents gone for months are not re-examined forever).
OFFLINE_LOOKBACK = timedelta(hours=1)
BATCH_SIZE = 200


def _record(agent: Agent, name: str, at: datetime) -> None:
    payload: dict[str, object] = {"last_seen_at": agent.last_seen_at.isoformat() if agent.last_seen_at else None}
    if name == ONLINE:
        payload.update(queues=agent.queues, capacity=agent.capacity, version=agent.version)
    event = event_build(
        workspace_id=agent.workspace_id,
        event=name,
        occurred=at,
        resource=resource("agent", agent.pk, agent.name),
        related=[resource("work-pool", agent.pool_id)],
        payload=payload,
    )
    events_record([event])


def _last_announced(workspace_id: uuid.UUID, agent_id: uuid.UUID) -> str | None:
    name: str | None = (
        Event.dangerously_unscoped.filter(
            workspace_id=workspace_id, resource_id=f"tether.agent.{agent_id}", event__in=(ONLINE, OFFLINE)
        )
        .order_by("-occurred", "-seq")
        .values_list("event", flat=True)
        .first()
    )
    return name


def agent_seen(*, agent: Agent, now: datetime | None = None) -> None:
    """Record that `agent` was heard from now; announce it online if it was new or offline."""
    now = now or timezone.now()
    stale_before = now - dispatch_timings().offline_after
    seen_recently = agent.last_seen_at is not None and agent.last_seen_at >= stale_before
    agent.last_seen_at, previously = now, agent.last_seen_at
    if seen_recently:
        Agent.objects.filter(pk=agent.pk).update(last_seen_at=now)
        return
    with transaction.atomic():
        # Of concurrent requests of a returning agent, only the one whose UPDATE still finds it stale announces it.
        stale = Q(last_seen_at__isnull=True) | Q(last_seen_at__lt=stale_before)
        came_back = Agent.objects.filter(stale, pk=agent.pk).update(last_seen_at=now)
        if not came_back:
            Agent.objects.filter(pk=agent.pk).update(last_seen_at=now)
        elif _last_announced(agent.workspace_id, agent.pk) != ONLINE:
            agent.last_seen_at = previously  # the payload says when it was last seen before
            _record(agent, ONLINE, now)
            agent.last_seen_at = now


def agents_announce_offline(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Record `tether.agent.offline` for agents silent since they were last announced online; returns how many.

    Safe on several hosts: agent rows are locked with SKIP LOCKED, and a heartbeat waiting on
    the lock re-checks the row once this commits (and announces the agent online again).
    """
    now = now or timezone.now()
    stale_before = now - dispatch_timings().offline_after
    agent_resource = Concat(Value("tether.agent."), Cast(OuterRef("pk"), CharField()))
    last_presence = (
        Event.dangerously_unscoped.filter(
            workspace_id=OuterRef("workspace_id"), resource_id=agent_resource, event__in=(ONLINE, OFFLINE)
        )
        .order_by("-occurred", "-seq")
        .values("event")[:1]
    )
    with transaction.atomic():
        silent = list(
            Agent.dangerously_unscoped.select_for_update(skip_locked=True, of=("self",))
            .filter(last_seen_at__lt=stale_before, last_seen_at__gte=stale_before - OFFLINE_LOOKBACK)
            .annotate(announced=Subquery(last_presence))
            # No presence event left: its `online` was deleted by retention (a long-lived agent).
            .filter(Q(announced=ONLINE) | Q(announced__isnull=True))
            .order_by("last_seen_at")[:batch_size]
        )
        for agent in silent:
            _record(agent, OFFLINE, now)
    return len(silent)
