"""Evaluating triggers: reactive ones as events arrive, proactive ones as their deadlines pass.

Unhandled events (`Event.handled_at` null) are the work queue: a batch is locked with SKIP
LOCKED, every enabled automation of the events' workspaces looks at them, the trigger
buckets they touch are locked and updated, firings are inserted with a key derived from
their cause, and the events are marked handled, all in one transaction. A worker that dies
midway rolls all of it back and the events are evaluated again; re-evaluating the same
cause makes the same firing key, which is inserted at most once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from controlplane.automations.firings import firing_create
from controlplane.automations.models import Automation, TriggerBucket
from controlplane.automations.triggers import (
    CompoundTrigger,
    EventTrigger,
    SequenceTrigger,
    Trigger,
    node_at,
    parse_trigger,
)
from controlplane.core.errors import ValidationFailed
from controlplane.events.models import Event

logger = logging.getLogger(__name__)

EVENT_BATCH = 500
DEADLINE_BATCH = 200
ROOT = "r"


@dataclass(frozen=True)
class Fired:
    key: str  # stable for the same cause: the firing's idempotency key
    reason: str
    event: Event | None = None


@dataclass
class _Pass:
    """One evaluation pass: bucket rows locked so far (reused within the pass)."""

    now: datetime
    buckets: dict[tuple[Any, str, str], TriggerBucket] = field(default_factory=dict)

    def bucket(self, automation: Automation, path: str, key: str) -> TriggerBucket:
        cache_key = (automation.pk, path, key)
        found = self.buckets.get(cache_key)
        if found is None:
            TriggerBucket.dangerously_unscoped.bulk_create(
                [TriggerBucket(workspace_id=automation.workspace_id, automation=automation, path=path, key=key)],
                ignore_conflicts=True,
            )
            found = TriggerBucket.dangerously_unscoped.select_for_update().get(
                automation=automation, path=path, key=key
            )
            self.buckets[cache_key] = found
        return found


def _save(bucket: TriggerBucket) -> None:
    bucket.save(update_fields=["armed", "count", "window_start", "deadline", "state", "updated_at"])


def _arm(bucket: TriggerBucket, start: datetime, within: float) -> None:
    bucket.armed, bucket.count, bucket.window_start = True, 0, start
    bucket.deadline = start + timedelta(seconds=within) if within else None


def _reactive(trigger: EventTrigger, bucket: TriggerBucket, event: Event, path: str) -> Fired | None:
    is_after, is_expected = trigger.is_after(event), trigger.is_expected(event)
    if trigger.after:
        if is_expected and bucket.armed and bucket.window_start is not None:
            if trigger.within and event.occurred > bucket.window_start + timedelta(seconds=trigger.within):
                bucket.armed = False  # the window closed before this event
            else:
                bucket.count += 1
                if bucket.count >= trigger.threshold:
                    bucket.armed = False
                    reason = f"{event.event} after an opening event"
                    return Fired(key=f"{path}|{bucket.key}|{event.id}", reason=reason, event=event)
        if is_after and not bucket.armed:
            _arm(bucket, event.occurred, 0)
        return None
    if not is_expected:
        return None
    expired = (
        trigger.within
        and bucket.window_start is not None
        and event.occurred > bucket.window_start + timedelta(seconds=trigger.within)
    )
    if not bucket.armed or expired:
        _arm(bucket, event.occurred, 0)
    bucket.count += 1
    if bucket.count >= trigger.threshold:
        bucket.armed, bucket.count = False, 0
        reason = (
            f"{event.event}" if trigger.threshold == 1 else f"{trigger.threshold} events within {trigger.within:g} s"
        )
        return Fired(key=f"{path}|{bucket.key}|{event.id}", reason=reason, event=event)
    return None


def _proactive(trigger: EventTrigger, bucket: TriggerBucket, event: Event, now: datetime) -> None:
    late = bucket.deadline is not None and event.occurred > bucket.deadline
    if trigger.is_expected(event) and bucket.armed and not late:
        bucket.count += 1
        if bucket.count >= trigger.threshold:
            if trigger.after:
                bucket.armed = False  # satisfied: nothing fires for this window
            elif trigger.fixed_windows:
                pass  # satisfied: the window still ends at its deadline, where the next one starts
            else:
                _arm(bucket, max(now, event.occurred), trigger.within)
    if trigger.is_after(event):
        _arm(bucket, max(event.occurred, now - timedelta(seconds=trigger.within)), trigger.within)
    elif not trigger.after and not bucket.armed and bucket.window_start is None:
        _arm(bucket, now, trigger.within)  # first sight of this for_each key starts its watch


def _leaf(run: _Pass, automation: Automation, trigger: EventTrigger, path: str, event: Event) -> list[Fired]:
    if not trigger.applies_to(event) or not (trigger.is_after(event) or trigger.is_expected(event)):
        return []
    bucket = run.bucket(automation, path, trigger.bucket_key(event))
    fired: Fired | None = None
    if trigger.posture == "reactive":
        fired = _reactive(trigger, bucket, event, path)
    else:
        _proactive(trigger, bucket, event, run.now)
    _save(bucket)
    return [fired] if fired else []


def _combine(
    run: _Pass, automation: Automation, trigger: CompoundTrigger | SequenceTrigger, path: str, index: int, child: Fired
) -> Fired | None:
    """A child of a compound or sequence trigger fired: update the parent's progress; fire it when complete."""
    bucket = run.bucket(automation, path, "")
    state: dict[str, Any] = dict(bucket.state or {})
    now = run.now
    horizon = now - timedelta(seconds=trigger.within) if trigger.within else None
    if isinstance(trigger, CompoundTrigger):
        seen = {
            key: value
            for key, value in state.get("seen", {}).items()
            if horizon is None or datetime.fromisoformat(value["at"]) >= horizon
        }
        seen[str(index)] = {"at": now.isoformat(), "key": child.key}
        if len(seen) >= trigger.needed():
            bucket.state = {}
            _save(bucket)
            cause = ",".join(seen[k]["key"] for k in sorted(seen))
            reason = f"{len(seen)} of {len(trigger.triggers)} triggers"
            return Fired(key=f"{path}|{cause}", reason=reason, event=child.event)
        bucket.state = {"seen": seen}
        _save(bucket)
        return None
    progress = state.get("next", 0)
    started = state.get("started")
    if started and horizon is not None and datetime.fromisoformat(started) < horizon:
        progress, started = 0, None  # the sequence took too long: start over
    keys: list[str] = state.get("keys", []) if progress else []
    if index == progress:
        progress, keys = progress + 1, [*keys, child.key]
        started = started or now.isoformat()
    elif index == 0:
        progress, keys, started = 1, [child.key], now.isoformat()
    else:
        return None
    if progress == len(trigger.triggers):
        bucket.state = {}
        _save(bucket)
        return Fired(key=f"{path}|{','.join(keys)}", reason=f"a sequence of {progress} triggers", event=child.event)
    bucket.state = {"next": progress, "started": started, "keys": keys}
    _save(bucket)
    return None


def _evaluate(run: _Pass, automation: Automation, trigger: Trigger, path: str, event: Event) -> list[Fired]:
    if isinstance(trigger, EventTrigger):
        return _leaf(run, automation, trigger, path, event)
    fired: list[Fired] = []
    for index, child in enumerate(trigger.triggers):
        for child_fired in _evaluate(run, automation, child, f"{path}.{index}", event):
            parent = _combine(run, automation, trigger, path, index, child_fired)
            if parent:
                fired.append(parent)
    return fired


def _bubble(run: _Pass, automation: Automation, root: Trigger, path: str, fired: Fired) -> Fired | None:
    """A trigger at `path` fired by its deadline: pass it up through its parents."""
    while path != ROOT:
        parent_path, index = path.rsplit(".", 1)
        parent = node_at(root, parent_path)
        assert isinstance(parent, CompoundTrigger | SequenceTrigger)
        combined = _combine(run, automation, parent, parent_path, int(index), fired)
        if combined is None:
            return None
        fired, path = combined, parent_path
    return fired


def _trigger_of(automation: Automation) -> Trigger | None:
    try:
        return parse_trigger(automation.trigger)
    except ValidationFailed:
        logger.warning("automation %s has an invalid trigger; it is skipped", automation.pk)
        return None


def events_evaluate(*, batch_size: int = EVENT_BATCH) -> int:
    """Evaluate one batch of unhandled events against every enabled automation; returns how many."""
    with transaction.atomic():
        events = list(
            Event.dangerously_unscoped.filter(handled_at__isnull=True)
            .order_by("seq")
            .select_for_update(skip_locked=True)[:batch_size]
        )
        if not events:
            return 0
        now = timezone.now()
        automations: dict[Any, list[tuple[Automation, Trigger]]] = {}
        # Background code crosses workspaces: each automation only ever sees its own workspace's events.
        for automation in Automation.dangerously_unscoped.filter(
            workspace_id__in={event.workspace_id for event in events}, enabled=True
        ).order_by("pk"):
            trigger = _trigger_of(automation)
            if trigger is not None:
                automations.setdefault(automation.workspace_id, []).append((automation, trigger))
        run = _Pass(now=now)
        for event in events:
            for automation, trigger in automations.get(event.workspace_id, []):
                if event.resource_id == f"tether.automation.{automation.pk}":
                    continue  # an automation never reacts to its own firings
                for fired in _evaluate(run, automation, trigger, ROOT, event):
                    firing_create(automation=automation, key=fired.key, reason=fired.reason, event=fired.event)
        Event.dangerously_unscoped.filter(seq__in=[event.seq for event in events]).update(handled_at=now)
        return len(events)


def events_evaluate_all(*, batch_size: int = EVENT_BATCH, max_batches: int = 100) -> int:
    handled = 0
    for _ in range(max_batches):
        count = events_evaluate(batch_size=batch_size)
        handled += count
        if count < batch_size:
            break
    return handled


def deadlines_evaluate(*, now: datetime | None = None, batch_size: int = DEADLINE_BATCH) -> int:
    """Fire proactive triggers whose window closed without enough expected events; returns how many fired."""
    now = now or timezone.now()
    fired_count = 0
    with transaction.atomic():
        buckets = list(
            TriggerBucket.dangerously_unscoped.filter(armed=True, deadline__lte=now)
            .select_related("automation")
            .order_by("deadline")
            .select_for_update(skip_locked=True, of=("self",))[:batch_size]
        )
        run = _Pass(now=now)
        for bucket in buckets:
            run.buckets[(bucket.automation_id, bucket.path, bucket.key)] = bucket
            automation = bucket.automation
            root = _trigger_of(automation) if automation.enabled else None
            node = node_at(root, bucket.path) if root is not None else None
            if not isinstance(node, EventTrigger) or node.posture != "proactive":
                bucket.armed = False
                _save(bucket)
                continue
            deadline = bucket.deadline
            assert deadline is not None
            fired: Fired | None = None
            if bucket.count < node.threshold:
                expected = ", ".join(spec.name for spec in node.expect) or "events"
                reason = f"expected {expected} did not occur within {node.within:g} s"
                fired = Fired(key=f"{bucket.path}|{bucket.key}|deadline|{deadline.isoformat()}", reason=reason)
            if node.after:
                bucket.armed = False
            else:
                _arm(bucket, deadline, node.within)  # keep watching, window after window
                bucket.deadline = node.next_deadline(deadline)
            _save(bucket)
            if fired is not None:
                top = _bubble(run, automation, root, bucket.path, fired)  # type: ignore[arg-type]
                if top is not None:
                    firing_create(automation=automation, key=top.key, reason=top.reason, event=top.event)
                    fired_count += 1
    return fired_count


def proactive_watch_start(*, automation: Automation) -> None:
    """Open the first window of proactive triggers that have no `after` and no `for_each` (they watch from now)."""
    trigger = _trigger_of(automation)
    if trigger is None or not automation.enabled:
        return
    run = _Pass(now=timezone.now())

    def visit(node: Trigger, path: str) -> None:
        if isinstance(node, EventTrigger):
            if node.posture == "proactive" and not node.after and not node.for_each:
                bucket = run.bucket(automation, path, "")
                if not bucket.armed:
                    _arm(bucket, run.now, node.within)
                    _save(bucket)
            return
        for index, child in enumerate(node.triggers):
            visit(child, f"{path}.{index}")

    visit(trigger, ROOT)
