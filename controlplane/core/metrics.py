"""Prometheus metrics: request and claim latency measured in-process, run and agent figures
read from the database at scrape time. Served at /metrics when TETHER_METRICS_TOKEN is set.

Several uvicorn workers each hold their own histograms. With PROMETHEUS_MULTIPROC_DIR set (an
empty directory, emptied at every start, shared by the workers of one replica) a scrape
aggregates them all; without it each scrape sees the worker that answered it. The database
figures are whole-installation totals either way (docs/operations.md#observability).
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from controlplane.core.around import AroundMiddleware
from controlplane.runs.models import FlowRun
from controlplane.runs.states import StateType
from controlplane.workpools.dispatch.timings import dispatch_timings
from controlplane.workpools.models import Agent

REQUEST_SECONDS = Histogram(
    "tether_http_request_duration_seconds",
    "Time to answer an HTTP request, by method, route pattern and status class.",
    ["method", "route", "status"],
)
CLAIM_SECONDS = Histogram(
    "tether_agent_claim_duration_seconds",
    "Time one agent claim takes (the claim transaction, not a long-poll's wait).",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)

UNMATCHED_ROUTE = "unmatched"
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def observe_request(request: HttpRequest, status: int, seconds: float) -> None:
    # Route patterns and a closed set of methods keep the label sets bounded: a raw path (with
    # ids) or an arbitrary method would make one series per request.
    match = request.resolver_match
    route = match.route if match is not None and match.route else UNMATCHED_ROUTE
    method = request.method if request.method in _KNOWN_METHODS else "OTHER"
    REQUEST_SECONDS.labels(method=method, route=route, status=f"{status // 100}xx").observe(seconds)


class RequestMetricsMiddleware(AroundMiddleware):
    def enter(self, request: HttpRequest) -> float:
        return time.perf_counter()

    def finish(self, request: HttpRequest, response: HttpResponseBase, state: float) -> HttpResponseBase:
        observe_request(request, response.status_code, time.perf_counter() - state)
        return response


def _runs_family() -> GaugeMetricFamily:
    return GaugeMetricFamily("tether_flow_runs", "Flow runs by state type, all workspaces.", labels=["state"])


def _due_family() -> GaugeMetricFamily:
    return GaugeMetricFamily("tether_flow_runs_due", "SCHEDULED flow runs whose start time has come (queue depth).")


def _agents_family() -> GaugeMetricFamily:
    return GaugeMetricFamily("tether_agents_online", "Agents heard from within the offline threshold.")


class DatabaseCollector(Collector):
    """Figures read when scraped, so every worker and replica reports the same truth.

    These are operator-wide totals, not one tenant's data, so they read through
    `dangerously_unscoped`: one GROUP BY and two counts over all workspaces, on indexed columns.
    """

    def describe(self) -> Iterable[GaugeMetricFamily]:
        # Lets the registry learn the names without querying the database at registration.
        return [_runs_family(), _due_family(), _agents_family()]

    def collect(self) -> Iterable[GaugeMetricFamily]:
        now = timezone.now()
        by_state = FlowRun.dangerously_unscoped.order_by().values("state_type").annotate(n=Count("id"))
        counts = dict(by_state.values_list("state_type", "n"))
        runs = _runs_family()
        for state in StateType:
            runs.add_metric([state.value], counts.get(state.value, 0))
        due = _due_family()
        due.add_metric(
            [],
            FlowRun.dangerously_unscoped.filter(
                state_type=StateType.SCHEDULED, next_scheduled_start_time__lte=now
            ).count(),
        )
        # Same threshold as the agents page's online/offline (dispatch.selectors.agent_status).
        offline_after: timedelta = dispatch_timings().offline_after
        agents = _agents_family()
        agents.add_metric([], Agent.dangerously_unscoped.filter(last_seen_at__gte=now - offline_after).count())
        return [runs, due, agents]


_DATABASE = DatabaseCollector()
REGISTRY.register(_DATABASE)


def _registry_for_scrape() -> CollectorRegistry:
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    registry.register(_DATABASE)
    return registry


def _authorised(request: HttpRequest, token: str) -> bool:
    offered = request.headers.get("Authorization", "")
    scheme, _, credential = offered.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(credential.strip().encode(), token.encode())


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text format; 404 unless a token is configured, 401 without that token."""
    token: str = settings.TETHER_METRICS_TOKEN
    if not token:
        raise Http404("metrics are not enabled")
    if not _authorised(request, token):
        response = HttpResponse("a valid bearer token is required\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    response = HttpResponse(generate_latest(_registry_for_scrape()), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
