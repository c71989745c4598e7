"""What the deprecation dashboard, ``can_sunset`` and ``usage`` read: daily rollups only."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Max, Q, Sum
from django.utils import timezone

import contracts
from contracts.lifecycle import Lifecycle
from contracts.validation import operations
from gateway import deprecation
from gateway.models import (
    LATENCY_BUCKETS_MS,
    Consumer,
    Notice,
    UnauthenticatedDaily,
    UsageCoverage,
    UsageDaily,
)
from gateway.usage import ANONYMOUS


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
    def error_rate(self) -> float | None:
        return self.errors_30 / self.calls_30 if self.calls_30 else None


@dataclass
class OperationMove:
    """One old operation a consumer calls, and what replaces it in the successor version."""

    method: str
    template: str
    operation_id: str | None
    successor: str | None  # the successor's operation id; None: it has none
    successor_call: str | None  # "PATCH /v2/faqs/{entry_id}"
    status: str  # MIGRATING, NOT_STARTED or OLD_ONLY

    @property
    def label(self) -> str:
        return f"{self.method} {self.template}"

    @property
    def successor_label(self) -> str:
        if self.successor_call is None:
            return "nothing"
        return (
            f"{self.successor_call} ({self.successor})" if self.successor else self.successor_call
        )

    def describe(self) -> str:
        old = f"{self.label} ({self.operation_id})" if self.operation_id else self.label
        return f"{old} -> {self.successor_label}: {self.status}"


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
    moves: list[OperationMove] = field(default_factory=list)
    migration: str = ""  # MIGRATING or NOT_STARTED (calls the successor version or not)
    last_notified: dt.datetime | None = None


@dataclass
class Coverage:
    """Since when usage has been recorded; ``demo`` when demo history stands in for some of it."""

    since: dt.datetime | None
    demo: bool = False

    def covered_on(self, quiet_days: int) -> dt.datetime | None:
        """The moment the history will span a whole quiet window."""
        return self.since + dt.timedelta(days=quiet_days) if self.since else None

    def describe(self) -> str:
        if self.since is None:
            return "no usage recorded yet"
        text = f"usage recorded since {self.since:%Y-%m-%d %H:%M} UTC"
        return f"{text} (the earlier part is demo data)" if self.demo else text


@dataclass
class Unauthenticated:
    """Calls refused for a missing or unknown key: reported, not counted as a consumer."""

    calls: int = 0
    clients: int = 0
    last_seen: dt.datetime | None = None

    def describe(self) -> str:
        if not self.calls:
            return "no unauthenticated calls"
        return (
            f"{self.calls:,} unauthenticated call{'s' if self.calls != 1 else ''} from "
            f"{self.clients:,} address{'es' if self.clients != 1 else ''}, "
            f"last on {self.last_seen:%Y-%m-%d %H:%M} UTC"
        )


SAFE, NOT_SAFE, NOT_ENOUGH_DATA = "safe", "not-safe", "not-enough-data"
MIGRATING, NOT_STARTED, OLD_ONLY = "migrating", "not started", "only the old version"


@dataclass
class Verdict:
    answer: str  # SAFE, NOT_SAFE or NOT_ENOUGH_DATA
    reason: str
    callers: list[ConsumerUsage]
    coverage: Coverage = field(default_factory=lambda: Coverage(None))
    unauthenticated: Unauthenticated = field(default_factory=Unauthenticated)
    covered_on: dt.datetime | None = None

    @property
    def safe(self) -> bool:
        return self.answer == SAFE

    @property
    def exit_code(self) -> int:
        return {SAFE: 0, NOT_SAFE: 1, NOT_ENOUGH_DATA: 2}[self.answer]


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
        consumers=Count("consumer", distinct=True, filter=~Q(consumer=ANONYMOUS)),
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


def coverage() -> Coverage:
    rows = list(UsageCoverage.objects.values_list("since", "source"))
    if not rows:
        return Coverage(None)
    since = min(row[0] for row in rows)
    return Coverage(since, demo=any(source == UsageCoverage.DEMO for _, source in rows))


def unauthenticated(service: str, version: str, since: dt.datetime) -> Unauthenticated:
    rows = UnauthenticatedDaily.objects.filter(
        service=service, version=version, day__gte=since.date(), last_seen__gte=since
    ).aggregate(calls=Sum("count"), clients=Count("client", distinct=True), last=Max("last_seen"))
    return Unauthenticated(rows["calls"] or 0, rows["clients"] or 0, rows["last"])


def consumers_of(
    service: str,
    version: str,
    *,
    quiet_days: int,
    now: dt.datetime | None = None,
    anonymous: bool = False,
) -> list[ConsumerUsage]:
    """Everyone who called this version in the last 90 days (or the quiet window, if longer),
    most recent first, with their migration to the successor. Unauthenticated calls are left
    out unless ``anonymous``."""
    now = now or timezone.now()
    today = _today(now)
    quiet_since = now - dt.timedelta(days=quiet_days)
    start = min(today - dt.timedelta(days=89), _today(quiet_since))
    usage = UsageDaily.objects.filter(service=service, version=version, day__gte=start)
    if not anonymous:
        usage = usage.exclude(consumer=ANONYMOUS)
    rows = usage.values_list("consumer").annotate(
        calls_7=Sum("count", filter=Q(day__gte=today - dt.timedelta(days=6))),
        calls_30=Sum("count", filter=Q(day__gte=today - dt.timedelta(days=29))),
        last_seen=Max("last_seen"),
    )
    month = today - dt.timedelta(days=29)
    operations: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for name, method, operation in (
        usage.filter(day__gte=month).values_list("consumer", "method", "operation").distinct()
    ):
        operations[name].add((method, operation))
    names = [row[0] for row in rows]
    people = {c.name: c for c in Consumer.objects.filter(name__in=names)}
    notified = dict(
        Notice.objects.filter(service=service, version=version, consumer__in=names)
        .values_list("consumer")
        .annotate(last=Max("sent_at"))
    )
    plan = migration_plan(service, version)
    on_successor = _successor_calls(service, plan.successor, names, since=month)
    found = []
    for name, calls_7, calls_30, last_seen in rows:
        person = people.get(name)
        called = sorted(operations.get(name, ()))
        moves = [
            plan.move(method, template, on_successor.get(name, set()))
            for method, template in called
        ]
        found.append(
            ConsumerUsage(
                name=name,
                owner=person.owner if person else "unknown",
                contact=person.contact if person else "",
                calls_7=calls_7 or 0,
                calls_30=calls_30 or 0,
                last_seen=last_seen,
                operations=[f"{method} {template}" for method, template in called],
                in_quiet_window=bool(last_seen and last_seen >= quiet_since),
                moves=moves,
                migration=MIGRATING if on_successor.get(name) else NOT_STARTED,
                last_notified=notified.get(name),
            )
        )
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    return sorted(found, key=lambda c: c.last_seen or epoch, reverse=True)


@dataclass
class MigrationPlan:
    """How one version's operations map onto its successor's (see ``contracts/lifecycle.yaml``)."""

    lifecycle: Lifecycle
    successor: str | None
    ids: dict[tuple[str, str], str]  # (METHOD, template) here -> operation id
    successor_calls: dict[str, tuple[str, str]]  # successor's operation id -> (METHOD, template)

    def move(self, method: str, template: str, calls_there: set[tuple[str, str]]) -> OperationMove:
        as_method = "GET" if method == "HEAD" else method
        operation_id = self.ids.get((as_method, template))
        successor = target = None
        if self.successor:
            if operation_id:
                successor = self.lifecycle.successor_operation(operation_id, self.successor_calls)
                target = self.successor_calls.get(successor) if successor else None
            else:  # not in the contract: the same call on the successor's path, if any
                target = (
                    method,
                    template.replace(f"/{self.lifecycle.version}/", f"/{self.successor}/", 1),
                )
        status = NOT_STARTED
        if target is None:
            status = OLD_ONLY
        elif target in calls_there:
            status = MIGRATING
        return OperationMove(
            method=method,
            template=template,
            operation_id=operation_id,
            successor=successor,
            successor_call=f"{target[0]} {target[1]}" if target else None,
            status=status,
        )


def migration_plan(service: str, version: str) -> MigrationPlan:
    lc = deprecation.lifecycle(service, version)
    return MigrationPlan(
        lifecycle=lc,
        successor=lc.successor,
        ids={call: op_id for op_id, call in _contract_calls(service, version).items()},
        successor_calls=_contract_calls(service, lc.successor) if lc.successor else {},
    )


def _contract_calls(service: str, version: str) -> dict[str, tuple[str, str]]:
    try:
        document = contracts.load(service, version)
    except contracts.UnknownContract:
        return {}
    return {op_id: (op.method.upper(), op.path) for op_id, op in operations(document).items()}


def _successor_calls(
    service: str, successor: str | None, names: list[str], *, since: dt.date
) -> dict[str, set[tuple[str, str]]]:
    """(METHOD, template) each consumer called on the successor version since ``since``."""
    found: dict[str, set[tuple[str, str]]] = defaultdict(set)
    if not successor:
        return found
    for name, method, operation in (
        UsageDaily.objects.filter(
            service=service, version=successor, consumer__in=names, day__gte=since
        )
        .values_list("consumer", "method", "operation")
        .distinct()
    ):
        found[name].add((method, operation))
    return found


def verdict(
    service: str,
    version: str,
    *,
    quiet_days: int,
    now: dt.datetime | None = None,
    strict: bool = False,
    callers: list[ConsumerUsage] | None = None,
) -> Verdict:
    """Safe to sunset only when the recorded history covers the whole quiet window and no
    consumer called it within that window. Unauthenticated calls are reported apart and do not
    count, unless ``strict``: a scanner must not keep a version alive. ``callers``: what
    :func:`consumers_of` answers for the same arguments, when the caller has it already."""
    now = now or timezone.now()
    quiet_since = now - dt.timedelta(days=quiet_days)
    if callers is None:
        callers = consumers_of(service, version, quiet_days=quiet_days, now=now, anonymous=strict)
    recent = [c for c in callers if c.in_quiet_window]
    history = coverage()
    refused = unauthenticated(service, version, quiet_since)
    found = {"coverage": history, "unauthenticated": refused}
    window = f"the last {quiet_days} days"
    if recent:
        names = ", ".join(c.name for c in recent)
        return Verdict(
            NOT_SAFE,
            f"{len(recent)} consumer{'s' if len(recent) != 1 else ''} called {service} {version} "
            f"in {window}: {names}.",
            recent,
            **found,
        )
    if history.since is None or history.since > quiet_since:
        covered_on = history.covered_on(quiet_days) if history.since else None
        if history.since is None:
            reason = (
                "Not enough data: no usage has been recorded yet, so nobody can say who calls "
                f"{service} {version}. The gateway records from its first flush."
            )
        else:
            reason = (
                f"Not enough data: {history.describe()}, which does not cover {window}; it "
                f"will on {covered_on:%Y-%m-%d %H:%M} UTC."
            )
        return Verdict(NOT_ENOUGH_DATA, reason, [], covered_on=covered_on, **found)
    last = (
        UsageDaily.objects.filter(service=service, version=version)
        .exclude(consumer=ANONYMOUS)
        .aggregate(Max("last_seen"))["last_seen__max"]
    )
    if last is None:
        reason = (
            f"No consumer has ever called {service} {version} in the recorded history "
            f"(since {history.since:%Y-%m-%d %H:%M} UTC)."
        )
    else:
        reason = f"No calls in {window}; the last was on {last:%Y-%m-%d %H:%M} UTC."
    if refused.calls:
        reason += f" Not counted: {refused.describe()} (--strict counts them)."
    if history.demo:
        reason += " The history includes demo data."
    return Verdict(SAFE, reason, [], **found)
