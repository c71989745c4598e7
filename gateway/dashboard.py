"""What the deprecation dashboard, ``can_sunset`` and ``usage`` read: daily rollups only."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Max, Q, Sum
from django.utils import timezone

import contracts
from contracts.lifecycle import ACTIVE, Lifecycle
from gateway import deprecation
from gateway.models import LATENCY_BUCKETS_MS, Consumer, UsageDaily


def percentile(buckets: list[int], q: float) -> float | None:
    """The upper bound (ms) of the histogram bucket holding the q-quantile; ``inf`` past the last
    bound, ``None`` without data. Histograms give bounds, not exact values: the page says "≤"."""
    total = sum(buckets)
    if not total:
        return None
    rank, seen = q * total, 0
    for index, count in enumerate(buckets):
        seen += count
        if seen >= rank:
            return (
                float(LATENCY_BUCKETS_MS[index])
                if index < len(LATENCY_BUCKETS_MS)
                else float("inf")
            )
    return float("inf")


@dataclass
class VersionSummary:
    service: str
    version: str
    lifecycle: Lifecycle
    state: str
    days_to_sunset: int | None
    calls_30: int = 0
    calls_90: int = 0
    share_30: float = 0.0
    errors_30: int = 0
    p50_ms: float | None = None
    p95_ms: float | None = None
    consumers_30: int = 0
    series_30: list[int] = field(default_factory=list)
    series_90: list[int] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.service} {self.version}"

    @property
    def error_rate(self) -> float | None:
        return self.errors_30 / self.calls_30 if self.calls_30 else None


@dataclass
class ConsumerUsage:
    name: str
    owner: str
    contact: str
    calls_7: int
    calls_30: int
    last_seen: dt.datetime | None
    operations: list[str]
    in_quiet_window: bool


@dataclass
class Verdict:
    safe: bool
    reason: str
    callers: list[ConsumerUsage]


def _today(now: dt.datetime) -> dt.date:
    return now.astimezone(dt.UTC).date()


def known_versions() -> list[tuple[str, str]]:
    """Published versions of routed services, plus any version that shows up in usage."""
    pairs = {
        (service, version)
        for service, versions in contracts.published().items()
        if service in settings.GATEWAY_UPSTREAMS
        for version in versions
    }
    pairs |= set(UsageDaily.objects.values_list("service", "version").distinct())
    return sorted(pairs)


def versions(now: dt.datetime | None = None) -> list[VersionSummary]:
    now = now or timezone.now()
    today = _today(now)
    start_90, start_30 = today - dt.timedelta(days=89), today - dt.timedelta(days=29)
    summaries = {}
    for service, version in known_versions():
        lc = deprecation.lifecycle(service, version)
        days = (lc.sunset_at - now).days if lc.sunset_at and lc.sunset_at > now else None
        summaries[(service, version)] = VersionSummary(
            service,
            version,
            lc,
            lc.state(now),
            days,
            series_30=[0] * 30,
            series_90=[0] * 90,
        )
    per_day = (
        UsageDaily.objects.filter(day__gte=start_90, day__lte=today)
        .values_list("service", "version", "day")
        .annotate(calls=Sum("count"))
    )
    for service, version, day, calls in per_day:
        summary = summaries.get((service, version))
        if summary is None:
            continue
        summary.series_90[(day - start_90).days] += calls
        summary.calls_90 += calls
        if day >= start_30:
            summary.series_30[(day - start_30).days] += calls
            summary.calls_30 += calls
    recent = UsageDaily.objects.filter(day__gte=start_30, day__lte=today)
    for service, version, errors, consumers in recent.values_list("service", "version").annotate(
        errors=Sum("count", filter=Q(status_class__in=["4xx", "5xx"])),
        consumers=Count("consumer", distinct=True),
    ):
        summary = summaries.get((service, version))
        if summary:
            summary.errors_30 = errors or 0
            summary.consumers_30 = consumers
    histograms: dict[tuple, list[int]] = defaultdict(lambda: [0] * (len(LATENCY_BUCKETS_MS) + 1))
    for service, version, buckets in recent.values_list("service", "version", "latency_buckets"):
        merged = histograms[(service, version)]
        for index, count in enumerate(buckets or ()):
            merged[index] += count
    service_totals: dict[str, int] = defaultdict(int)
    for summary in summaries.values():
        service_totals[summary.service] += summary.calls_30
    for key, summary in summaries.items():
        summary.p50_ms = percentile(histograms.get(key, []), 0.50)
        summary.p95_ms = percentile(histograms.get(key, []), 0.95)
        total = service_totals[summary.service]
        summary.share_30 = summary.calls_30 / total if total else 0.0
    return list(summaries.values())


def consumers_of(
    service: str, version: str, *, quiet_days: int, now: dt.datetime | None = None
) -> list[ConsumerUsage]:
    """Everyone who called this version in the last 90 days, most recent first."""
    now = now or timezone.now()
    today = _today(now)
    quiet_since = now - dt.timedelta(days=quiet_days)
    rows = (
        UsageDaily.objects.filter(
            service=service, version=version, day__gte=today - dt.timedelta(days=89)
        )
        .values_list("consumer")
        .annotate(
            calls_7=Sum("count", filter=Q(day__gte=today - dt.timedelta(days=6))),
            calls_30=Sum("count", filter=Q(day__gte=today - dt.timedelta(days=29))),
            last_seen=Max("last_seen"),
        )
    )
    operations: dict[str, set[str]] = defaultdict(set)
    for name, method, operation in (
        UsageDaily.objects.filter(
            service=service, version=version, day__gte=today - dt.timedelta(days=29)
        )
        .values_list("consumer", "method", "operation")
        .distinct()
    ):
        operations[name].add(f"{method} {operation}")
    people = {c.name: c for c in Consumer.objects.filter(name__in=[row[0] for row in rows])}
    found = []
    for name, calls_7, calls_30, last_seen in rows:
        person = people.get(name)
        found.append(
            ConsumerUsage(
                name=name,
                owner=person.owner if person else "unknown",
                contact=person.contact if person else "",
                calls_7=calls_7 or 0,
                calls_30=calls_30 or 0,
                last_seen=last_seen,
                operations=sorted(operations.get(name, ())),
                in_quiet_window=bool(last_seen and last_seen >= quiet_since),
            )
        )
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    return sorted(found, key=lambda c: c.last_seen or epoch, reverse=True)


def verdict(
    service: str, version: str, *, quiet_days: int, now: dt.datetime | None = None
) -> Verdict:
    """Safe to sunset only when nobody called it within the quiet window."""
    now = now or timezone.now()
    callers = consumers_of(service, version, quiet_days=quiet_days, now=now)
    recent = [c for c in callers if c.in_quiet_window]
    if recent:
        names = ", ".join(c.name for c in recent)
        return Verdict(
            False,
            f"{len(recent)} consumer{'s' if len(recent) != 1 else ''} called {service} {version} "
            f"in the last {quiet_days} days: {names}.",
            recent,
        )
    last = UsageDaily.objects.filter(service=service, version=version).aggregate(Max("last_seen"))[
        "last_seen__max"
    ]
    if last is None:
        reason = f"No call to {service} {version} has ever been recorded."
    else:
        reason = (
            f"No calls in the last {quiet_days} days; the last was on {last:%Y-%m-%d %H:%M} UTC."
        )
    return Verdict(True, reason, [])


def lifecycle_is_active(summary: VersionSummary) -> bool:
    return summary.state == ACTIVE and not summary.lifecycle.announced
