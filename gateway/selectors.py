"""Reads of usage data, for /__usage__/ (and the dashboard)."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from gateway.models import LATENCY_BUCKETS_MS, UsageRollup


def usage_rollups(
    *,
    service: str | None = None,
    version: str | None = None,
    consumer: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> QuerySet[UsageRollup]:
    """Hourly rollups; ``since``/``until`` select the hours that start in [since, until)."""
    rows = UsageRollup.objects.all()
    if service:
        rows = rows.filter(service=service)
    if version:
        rows = rows.filter(version=version)
    if consumer:
        rows = rows.filter(consumer=consumer)
    if since:
        rows = rows.filter(hour__gte=since.replace(minute=0, second=0, microsecond=0))
    if until:
        rows = rows.filter(hour__lt=until)
    return rows.order_by("hour", "service", "version", "operation", "method", "consumer")


def as_json(row: UsageRollup) -> dict:
    return {
        "hour": row.hour.isoformat().replace("+00:00", "Z"),
        "service": row.service,
        "version": row.version,
        "operation": row.operation,
        "method": row.method,
        "consumer": row.consumer,
        "status_class": row.status_class,
        "count": row.count,
        "latency_ms_sum": round(row.latency_ms_sum, 3),
        "latency_histogram": row.latency_buckets,
    }


BUCKET_BOUNDS_MS = [*LATENCY_BUCKETS_MS, None]
