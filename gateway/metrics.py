"""Prometheus metrics, correct across gunicorn workers.

gunicorn.conf.py points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh folder for the gateway before the
workers fork; each worker writes its samples there and ``/metrics`` merges them. Without that
variable (tests, ``runserver``) the process's own registry is used.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUESTS = Counter(
    "switchyard_gateway_requests_total",
    "Calls answered by the gateway.",
    ["service", "version", "consumer", "status"],
)
UPSTREAM_FAILURES = Counter(
    "switchyard_gateway_upstream_failures_total",
    "Calls the gateway could not complete upstream, by kind.",
    ["service", "kind"],
)
# What the usage store got: after a crash, the calls answered (REQUESTS) but neither stored nor
# dropped are the ones the crash lost (a dead worker's counters stay in the multiprocess folder).
USAGE_STORED = Counter(
    "switchyard_gateway_usage_stored_calls_total", "Calls written to the usage store."
)
USAGE_DROPPED = Counter(
    "switchyard_gateway_usage_dropped_calls_total",
    "Calls never stored: the usage store was unavailable for longer than the backlog holds.",
)
USAGE_FLUSH_FAILURES = Counter(
    "switchyard_gateway_usage_flush_failures_total", "Usage flushes the store refused."
)
CACHE_ERRORS = Counter(
    "switchyard_gateway_cache_errors_total",
    "Shared-cache operations that failed (the call went on without the cache), by operation.",
    ["operation"],
)
LATENCY = Histogram(
    "switchyard_gateway_request_duration_seconds",
    "Time from receiving a call to having the upstream's response headers.",
    ["service", "version"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def exposition() -> tuple[bytes, str]:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    from prometheus_client import REGISTRY

    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


_children: dict[tuple, object] = {}


def _child(metric, *labels: str):
    """The labelled child, looked up once per label set (``labels()`` checks and locks)."""
    key = (metric, labels)
    child = _children.get(key)
    if child is None:
        child = _children[key] = metric.labels(*labels)
    return child


def observe(
    service: str, version: str, consumer: str, status: int, seconds: float, failure: str | None
) -> None:
    """One answered call: its count, its latency and, if the upstream failed, why."""
    _child(REQUESTS, service, version, consumer, str(status)).inc()
    _child(LATENCY, service, version).observe(seconds)
    if failure:
        _child(UPSTREAM_FAILURES, service, failure).inc()
