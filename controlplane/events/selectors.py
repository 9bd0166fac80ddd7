"""Reads of the event log: filters shared by the list and the counts."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Trunc

from controlplane.core.errors import ValidationFailed
from controlplane.core.query_params import uuid_params
from controlplane.events.models import Event, InboundWebhook

COUNT_INTERVALS = ("minute", "hour", "day")


def _patterns(params: Mapping[str, Any], name: str) -> list[str]:
    values: list[str] = []
    getlist = getattr(params, "getlist", None)
    raw = getlist(name) if getlist else ([params[name]] if name in params else [])
    for value in raw:
        values.extend(part.strip() for part in str(value).split(",") if part.strip())
    return values


def _pattern_q(field: str, patterns: list[str]) -> Q:
    query = Q()
    for pattern in patterns:
        if pattern.count("*") == 1 and pattern.endswith("*"):
            query |= Q(**{f"{field}__startswith": pattern[:-1]})  # uses the (workspace, name) index
        elif "*" in pattern:
            query |= Q(**{f"{field}__regex": _regex(pattern)})
        else:
            query |= Q(**{field: pattern})
    return query


def _regex(pattern: str) -> str:
    return "^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$"


def _time(params: Mapping[str, Any], name: str) -> datetime | None:
    value = params.get(name)
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed(f"{name} must be an ISO 8601 time.", details={name: ["invalid"]}) from None
    if parsed.tzinfo is None:
        raise ValidationFailed(f"{name} needs a time zone (e.g. 2026-01-01T00:00:00Z).", details={name: ["naive"]})
    return parsed


def _naming_related(events: QuerySet[Event], resource_ids: list[str]) -> QuerySet[Event]:
    """Events with a related resource whose id is one of `resource_ids`."""
    if connection.vendor == "postgresql":
        query = Q()
        for resource_id in resource_ids:
            query |= Q(related__contains=[{"tether.resource.id": resource_id}])
        return events.filter(query)
    # SQLite (embedded) has no JSON containment; json_each answers the same question.
    marks = ", ".join(["%s"] * len(resource_ids))
    condition = (
        'EXISTS (SELECT 1 FROM json_each("events_event"."related") AS item '  # noqa: S608 - names are fixed
        f"WHERE json_extract(item.value, '$.\"tether.resource.id\"') IN ({marks}))"
    )
    return events.extra(where=[condition], params=resource_ids)  # noqa: S610


def events_filtered(params: Mapping[str, Any]) -> QuerySet[Event]:
    """`since`/`until` (occurred), `event` (names or `prefix.*` patterns), `resource_id`,
    `related_resource_id` (patterns too), `id`."""
    events = Event.objects.all()
    since, until = _time(params, "since"), _time(params, "until")
    if since:
        events = events.filter(occurred__gte=since)
    if until:
        events = events.filter(occurred__lt=until)
    names = _patterns(params, "event")
    if names:
        events = events.filter(_pattern_q("event", names))
    resources = _patterns(params, "resource_id")
    if resources:
        events = events.filter(_pattern_q("resource_id", resources))
    related = _patterns(params, "related_resource_id")
    if related:
        if any("*" in pattern for pattern in related):
            raise ValidationFailed(
                "related_resource_id takes exact ids (no wildcards).", details={"related_resource_id": ["exact"]}
            )
        events = _naming_related(events, related)
    ids = _patterns(params, "id")
    if ids:
        events = events.filter(id__in=uuid_params("id", ids))
    return events


def event_counts(params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Events per time bucket (`interval` minute/hour/day), optionally per event name (`by=event`)."""
    interval = params.get("interval", "hour")
    if interval not in COUNT_INTERVALS:
        raise ValidationFailed(
            f"interval must be one of {', '.join(COUNT_INTERVALS)}.", details={"interval": ["invalid"]}
        )
    by_event = params.get("by") == "event"
    fields = ["start", "event"] if by_event else ["start"]
    rows = (
        events_filtered(params)
        .order_by()
        .annotate(start=Trunc("occurred", interval))
        .values(*fields)
        .annotate(count=Count("seq"))
        .order_by(*fields)
    )
    return list(rows)


def inbound_webhooks_list() -> QuerySet[InboundWebhook]:
    return InboundWebhook.objects.order_by("name")
