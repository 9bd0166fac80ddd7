"""Trigger documents: parsing and validation into small frozen dataclasses.

```
{"type": "event", "posture": "reactive" | "proactive",
 "match": {"tether.resource.id": "tether.flow-run.*"},       # labels of the event's resource
 "match_related": {"tether.resource.role": "deployment", ...}, # some related resource
 "after": ["tether.flow-run.Completed"],                       # names, or {"event", "match", "match_related"}
 "expect": ["file.arrived"],
 "for_each": ["tether.resource.id"], "threshold": 1, "within": 10}
{"type": "compound", "require": "any" | "all" | 2, "triggers": [...], "within": 30}
{"type": "sequence", "triggers": [...], "within": 60}
```

Reactive: fires when `threshold` expected events arrive within `within` seconds (counted
per `for_each` key; with `after`, only once an `after` event has opened the window).
Proactive: fires when fewer than `threshold` expected events arrive within `within` seconds
after an `after` event (or of each other, with no `after`). Labels and names take `*`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from controlplane.automations.calendar import local_days_later
from controlplane.core.errors import ValidationFailed
from controlplane.events.matching import LabelFilter, labels_match, matches, related_match
from controlplane.events.models import Event

MAX_WITHIN_SECONDS = 366 * 86400
MAX_CHILDREN = 10
MAX_DEPTH = 3
DAY_SECONDS = 86400


@dataclass(frozen=True)
class EventSpec:
    name: str
    match: LabelFilter
    match_related: LabelFilter

    def accepts(self, event: Event) -> bool:
        return (
            matches(self.name, event.event)
            and labels_match(self.match, event.resource)
            and related_match(self.match_related, event.related)
        )


@dataclass(frozen=True)
class EventTrigger:
    posture: Literal["reactive", "proactive"]
    match: LabelFilter
    match_related: LabelFilter
    after: tuple[EventSpec, ...]
    expect: tuple[EventSpec, ...]
    for_each: tuple[str, ...]
    threshold: int
    within: float
    # Proactive with no `after`: windows follow each other from the first one's start (a daily
    # deadline), instead of each restarting at the event that satisfied the previous one.
    fixed_windows: bool = False
    # Fixed windows of whole days ending at this local time in `timezone` (a daily deadline that
    # stays at 09:00 local across DST changes, instead of drifting an hour with 86,400 s steps).
    time_of_day: time | None = None
    timezone: str = ""

    def next_deadline(self, deadline: datetime) -> datetime:
        """When the window that starts at `deadline` (where the previous one ended) ends."""
        if self.time_of_day is None:
            return deadline + timedelta(seconds=self.within)
        days = round(self.within / DAY_SECONDS)
        return local_days_later(deadline, days, self.time_of_day, ZoneInfo(self.timezone))

    def applies_to(self, event: Event) -> bool:
        return labels_match(self.match, event.resource) and related_match(self.match_related, event.related)

    def is_after(self, event: Event) -> bool:
        return any(spec.accepts(event) for spec in self.after)

    def is_expected(self, event: Event) -> bool:
        return not self.expect or any(spec.accepts(event) for spec in self.expect)

    def bucket_key(self, event: Event) -> str:
        return "|".join(str(event.resource.get(label, "")) for label in self.for_each)


@dataclass(frozen=True)
class CompoundTrigger:
    require: Literal["any", "all"] | int
    triggers: tuple[Trigger, ...]
    within: float

    def needed(self) -> int:
        if self.require == "any":
            return 1
        if self.require == "all":
            return len(self.triggers)
        return int(self.require)


@dataclass(frozen=True)
class SequenceTrigger:
    triggers: tuple[Trigger, ...]
    within: float


Trigger = EventTrigger | CompoundTrigger | SequenceTrigger


def _fail(path: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, details={f"trigger{path}": [message]})


def _labels(value: Any, path: str) -> LabelFilter:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _fail(path, "Label filters are objects of label: pattern (or a list of patterns).")
    for key, patterns in value.items():
        items = [patterns] if isinstance(patterns, str) else patterns
        if not isinstance(items, list) or not items or not all(isinstance(item, str) for item in items):
            raise _fail(f"{path}.{key}", "A label filter value is a pattern or a non-empty list of patterns.")
    return dict(value)


def _specs(value: Any, path: str) -> tuple[EventSpec, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _fail(path, "A list of event names (or {event, match, match_related} objects).")
    specs = []
    for index, item in enumerate(value):
        if isinstance(item, str) and item:
            specs.append(EventSpec(name=item, match={}, match_related={}))
        elif isinstance(item, dict) and isinstance(item.get("event"), str) and item["event"]:
            specs.append(
                EventSpec(
                    name=item["event"],
                    match=_labels(item.get("match"), f"{path}[{index}].match"),
                    match_related=_labels(item.get("match_related"), f"{path}[{index}].match_related"),
                )
            )
        else:
            raise _fail(f"{path}[{index}]", "An event name, or an object with `event`.")
    return tuple(specs)


def _within(value: Any, path: str, *, required: bool = False) -> float:
    if value is None and not required:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= MAX_WITHIN_SECONDS:
        raise _fail(f"{path}.within", f"within is a number of seconds between 0 and {MAX_WITHIN_SECONDS}.")
    return float(value)


def _flag(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(path, "This is true or false.")
    return value


def _daily(doc: dict[str, Any], path: str) -> tuple[time | None, str]:
    """`time_of_day` ("HH:MM") and `timezone` of a fixed-window trigger, if it names them."""
    raw_time, zone = doc.get("time_of_day"), doc.get("timezone")
    if raw_time is None and zone is None:
        return None, ""
    if doc.get("fixed_windows") is not True:
        raise _fail(f"{path}.time_of_day", "time_of_day and timezone go with fixed_windows: true.")
    within = doc.get("within")
    if not isinstance(within, int) or isinstance(within, bool) or within <= 0 or within % DAY_SECONDS:
        raise _fail(f"{path}.within", "With time_of_day, within is a whole number of days (86400 per day).")
    try:
        at = time.fromisoformat(raw_time) if isinstance(raw_time, str) else None
    except ValueError:
        at = None
    if at is None or at.tzinfo is not None:
        raise _fail(f"{path}.time_of_day", "time_of_day is a local time, HH:MM.")
    try:
        ZoneInfo(zone if isinstance(zone, str) and zone else "")
    except (ZoneInfoNotFoundError, ValueError):
        raise _fail(f"{path}.timezone", f"Unknown time zone {zone!r}.") from None
    return at, str(zone)


def _event_trigger(doc: dict[str, Any], path: str) -> EventTrigger:
    posture = doc.get("posture", "reactive")
    if posture not in ("reactive", "proactive"):
        raise _fail(f"{path}.posture", "posture is reactive or proactive.")
    threshold = doc.get("threshold", 1)
    if isinstance(threshold, bool) or not isinstance(threshold, int) or not 1 <= threshold <= 100_000:
        raise _fail(f"{path}.threshold", "threshold is a whole number from 1.")
    for_each = doc.get("for_each", [])
    if not isinstance(for_each, list) or not all(isinstance(label, str) for label in for_each):
        raise _fail(f"{path}.for_each", "for_each is a list of resource label names.")
    time_of_day, zone = _daily(doc, path)
    trigger = EventTrigger(
        posture=posture,
        match=_labels(doc.get("match"), f"{path}.match"),
        match_related=_labels(doc.get("match_related"), f"{path}.match_related"),
        after=_specs(doc.get("after"), f"{path}.after"),
        expect=_specs(doc.get("expect"), f"{path}.expect"),
        for_each=tuple(for_each),
        threshold=threshold,
        within=_within(doc.get("within"), path, required=posture == "proactive"),
        fixed_windows=_flag(doc.get("fixed_windows", False), f"{path}.fixed_windows"),
        time_of_day=time_of_day,
        timezone=zone,
    )
    if posture == "proactive" and trigger.within <= 0:
        raise _fail(f"{path}.within", "A proactive trigger needs within > 0: how long to wait for the events.")
    if posture == "reactive" and not trigger.expect and not trigger.after and not trigger.match:
        raise _fail(path, "A reactive trigger names the events it expects (expect) or filters them (match).")
    return trigger


def _children(doc: dict[str, Any], path: str, depth: int) -> tuple[Trigger, ...]:
    children = doc.get("triggers")
    if not isinstance(children, list) or not 1 <= len(children) <= MAX_CHILDREN:
        raise _fail(f"{path}.triggers", f"A list of 1 to {MAX_CHILDREN} triggers.")
    return tuple(_parse(child, f"{path}.triggers[{index}]", depth + 1) for index, child in enumerate(children))


def _parse(doc: Any, path: str, depth: int) -> Trigger:
    if not isinstance(doc, dict):
        raise _fail(path, "A trigger is an object with a type: event, compound or sequence.")
    if depth > MAX_DEPTH:
        raise _fail(path, f"Triggers nest at most {MAX_DEPTH} levels deep.")
    kind = doc.get("type", "event")
    if kind == "event":
        return _event_trigger(doc, path)
    if kind == "compound":
        children = _children(doc, path, depth)
        require = doc.get("require", "all")
        valid_number = isinstance(require, int) and not isinstance(require, bool) and 1 <= require <= len(children)
        if require not in ("any", "all") and not valid_number:
            raise _fail(f"{path}.require", "require is any, all, or how many of the triggers.")
        return CompoundTrigger(require=require, triggers=children, within=_within(doc.get("within"), path))
    if kind == "sequence":
        return SequenceTrigger(triggers=_children(doc, path, depth), within=_within(doc.get("within"), path))
    raise _fail(f"{path}.type", "type is event, compound or sequence.")


def parse_trigger(doc: Any) -> Trigger:
    """The trigger a document describes; ValidationFailed (422) naming the offending part otherwise."""
    return _parse(doc, "", 0)


def node_at(trigger: Trigger, path: str) -> Trigger:
    """The trigger at a bucket path ("r", "r.0", "r.0.1")."""
    node = trigger
    for part in path.split(".")[1:]:
        assert isinstance(node, CompoundTrigger | SequenceTrigger)
        node = node.triggers[int(part)]
    return node
