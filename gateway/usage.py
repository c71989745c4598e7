"""Usage counting: in memory on the request path, flushed in batches off it.

``record()`` costs a dict update under a lock. A daemon thread hands the accumulated rollups to
the usage store every ``GATEWAY_USAGE_FLUSH_SECONDS``; the gunicorn ``worker_exit`` hook (and
``atexit``) flush the rest on a graceful shutdown. A store that fails keeps its batch for the next
flush: a request never waits on, or fails because of, the usage store.

The first flush of a fresh install also records since when usage is counted
(:class:`~gateway.models.UsageCoverage`): the sunset verdict never reads "nobody called" from
days the gateway was not counting. Calls refused for a missing or unknown key are tallied apart
as well, by a keyed hash of the client address, so that they can be reported without counting as
a consumer.
"""

from __future__ import annotations

import atexit
import bisect
import datetime as dt
import hashlib
import hmac
import logging
import threading
from typing import NamedTuple

from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils.module_loading import import_string

from gateway import metrics
from gateway.models import (
    LATENCY_BUCKETS_MS,
    UnauthenticatedDaily,
    UsageCoverage,
    UsageDaily,
    UsageRollup,
)

logger = logging.getLogger("switchyard.usage")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# Who an unauthenticated call is counted as, in the rollups.
ANONYMOUS = "(anonymous)"
# Rollups kept while the store is unavailable; past it, the oldest hours' calls are dropped (and
# counted as dropped): a store that is down for a day must not take the gateway's memory.
MAX_PENDING_ROLLUPS = 200_000
# Distinct client addresses kept per flush; a flood of addresses beyond it is counted as one.
MAX_CLIENTS_PER_FLUSH = 10_000
OTHER_CLIENTS = "(other)"


class RefusedKey(NamedTuple):
    """Unauthenticated calls: one row per day, version and (hashed) client address."""

    day: dt.date
    service: str
    version: str
    client: str


def client_digest(address: str) -> str:
    """A keyed hash of a client address: countable, not reversible without the SECRET_KEY."""
    key = settings.SECRET_KEY.encode("utf-8")
    return hmac.new(key, address.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


class UsageKey(NamedTuple):
    hour: dt.datetime
    service: str
    version: str
    operation: str
    method: str
    consumer: str
    status_class: str


class Tally:
    __slots__ = ("buckets", "count", "last_seen", "latency_ms_sum")

    def __init__(self):
        self.count = 0
        self.latency_ms_sum = 0.0
        self.buckets = [0] * (len(LATENCY_BUCKETS_MS) + 1)
        self.last_seen = _EPOCH

    def add(self, latency_ms: float, when: dt.datetime) -> None:
        self.count += 1
        self.latency_ms_sum += latency_ms
        self.buckets[bisect.bisect_left(LATENCY_BUCKETS_MS, latency_ms)] += 1
        self.last_seen = max(self.last_seen, when)

    def merge(self, other: Tally) -> None:
        self.count += other.count
        self.latency_ms_sum += other.latency_ms_sum
        self.buckets = [a + b for a, b in zip(self.buckets, other.buckets, strict=True)]
        self.last_seen = max(self.last_seen, other.last_seen)


class UsageStore:
    """Where rollups go. Subclasses implement ``write``; it may raise, the batch is then kept.
    ``write_refused`` stores the unauthenticated calls and ``mark_coverage`` since when this
    process counts; both may raise too, and are tried again at the next flush."""

    def write(self, batch: dict[UsageKey, Tally]) -> None:
        raise NotImplementedError

    def write_refused(self, refused: dict[RefusedKey, Tally]) -> None:
        return None

    def mark_coverage(self, since: dt.datetime) -> None:
        return None


class DatabaseUsageStore(UsageStore):
    """Hourly and daily rollups in the gateway's database, incremented in one transaction."""

    def write(self, batch: dict[UsageKey, Tally]) -> None:
        daily: dict[tuple, Tally] = {}
        last_seen: dict[tuple, dt.datetime] = {}
        for key, tally in batch.items():
            day_key = (key.hour.date(), *key[1:])
            daily.setdefault(day_key, Tally()).merge(tally)
            last_seen[day_key] = max(last_seen.get(day_key, tally.last_seen), tally.last_seen)
        with transaction.atomic():
            for key, tally in sorted(batch.items()):
                _increment(UsageRollup, {"hour": key.hour, **_dimensions(key[1:])}, tally)
            for day_key, tally in sorted(daily.items()):
                _increment(
                    UsageDaily,
                    {"day": day_key[0], **_dimensions(day_key[1:])},
                    tally,
                    last_seen=last_seen[day_key],
                )

    def write_refused(self, refused: dict[RefusedKey, Tally]) -> None:
        with transaction.atomic():
            for key, tally in sorted(refused.items()):
                row, created = UnauthenticatedDaily.objects.select_for_update().get_or_create(
                    **key._asdict(), defaults={"count": tally.count, "last_seen": tally.last_seen}
                )
                if not created:
                    row.count += tally.count
                    row.last_seen = max(row.last_seen, tally.last_seen)
                    row.save(update_fields=["count", "last_seen"])

    def mark_coverage(self, since: dt.datetime) -> None:
        """A fresh install's first flush says since when calls are counted (demo history, which
        says so of itself, does not stand in for it)."""
        if not UsageCoverage.objects.filter(source=UsageCoverage.LIVE).exists():
            UsageCoverage.objects.create(since=since, source=UsageCoverage.LIVE)


class NullUsageStore(UsageStore):
    """Drops every batch: calls are still tallied in memory, never stored (benchmarks)."""

    def write(self, batch: dict[UsageKey, Tally]) -> None:
        return None


def _dimensions(values: tuple) -> dict:
    names = ("service", "version", "operation", "method", "consumer", "status_class")
    return dict(zip(names, values, strict=True))


def _increment(model, fields: dict, tally: Tally, **extra) -> None:
    row, created = model.objects.select_for_update().get_or_create(
        **fields,
        defaults={
            "count": tally.count,
            "latency_ms_sum": tally.latency_ms_sum,
            "latency_buckets": tally.buckets,
            **extra,
        },
    )
    if created:
        return
    row.count += tally.count
    row.latency_ms_sum += tally.latency_ms_sum
    stored = row.latency_buckets or [0] * len(tally.buckets)
    row.latency_buckets = [a + b for a, b in zip(stored, tally.buckets, strict=True)]
    update = ["count", "latency_ms_sum", "latency_buckets"]
    if "last_seen" in extra:
        row.last_seen = max(row.last_seen, extra["last_seen"])
        update.append("last_seen")
    row.save(update_fields=update)


class UsageRecorder:
    def __init__(self, store: UsageStore, interval: float):
        self.store = store
        self.interval = interval
        self._pending: dict[UsageKey, Tally] = {}
        self._refused: dict[RefusedKey, Tally] = {}
        self.started_at = dt.datetime.now(dt.UTC)
        self._coverage_marked = False
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def record(
        self,
        *,
        service: str,
        version: str,
        operation: str,
        method: str,
        consumer: str,
        status: int,
        latency_ms: float,
        when: dt.datetime | None = None,
        client: str | None = None,
    ) -> None:
        """Count one call. ``client`` (the caller's address) is given for unauthenticated calls
        only: those are also counted apart, by address."""
        when = when or dt.datetime.now(dt.UTC)
        key = UsageKey(
            hour=when.replace(minute=0, second=0, microsecond=0),
            service=service,
            version=version,
            operation=operation,
            method=method,
            consumer=consumer,
            status_class=f"{status // 100}xx",
        )
        refused = None
        if client is not None:
            refused = RefusedKey(when.date(), service, version, client_digest(client))
        with self._lock:
            tally = self._pending.get(key)
            if tally is None:
                tally = self._pending[key] = Tally()
            tally.add(latency_ms, when)
            if refused is not None:
                self._refuse(refused, latency_ms, when)
        if self._thread is None and self.interval > 0:
            self.start()

    def _refuse(self, key: RefusedKey, latency_ms: float, when: dt.datetime) -> None:
        tally = self._refused.get(key)
        if tally is None:
            if len(self._refused) >= MAX_CLIENTS_PER_FLUSH:
                key = key._replace(client=OTHER_CLIENTS)
            tally = self._refused.setdefault(key, Tally())
        tally.add(latency_ms, when)

    def pending(self) -> int:
        with self._lock:
            return sum(tally.count for tally in self._pending.values())

    def flush(self) -> int:
        """Write what has accumulated; returns the number of calls written (0 on failure)."""
        with self._flush_lock:
            self._mark_coverage()
            self._flush_refused()
            with self._lock:
                batch, self._pending = self._pending, {}
            if not batch:
                return 0
            calls = sum(tally.count for tally in batch.values())
            try:
                self.store.write(batch)
            except Exception:
                metrics.USAGE_FLUSH_FAILURES.inc()
                logger.exception(
                    "usage flush failed; keeping the calls for the next flush",
                    extra={"calls": calls, "rollups": len(batch)},
                )
                self._keep(batch)
                return 0
            metrics.USAGE_STORED.inc(calls)
            return calls

    def _keep(self, batch: dict[UsageKey, Tally]) -> None:
        """Put a batch the store refused back, within ``MAX_PENDING_ROLLUPS``."""
        with self._lock:
            for key, tally in batch.items():
                self._pending.setdefault(key, Tally()).merge(tally)
            excess = len(self._pending) - MAX_PENDING_ROLLUPS
            if excess <= 0:
                return
            oldest = sorted(self._pending)[:excess]  # keys sort by hour first
            dropped = sum(self._pending.pop(key).count for key in oldest)
        metrics.USAGE_DROPPED.inc(dropped)
        logger.error(
            "usage store unavailable too long: dropped the oldest calls",
            extra={"calls": dropped, "rollups": excess},
        )

    def _mark_coverage(self) -> None:
        if self._coverage_marked:
            return
        try:
            self.store.mark_coverage(self.started_at)
        except Exception:
            logger.exception("could not record since when usage is counted; trying again")
            return
        self._coverage_marked = True

    def _flush_refused(self) -> None:
        with self._lock:
            refused, self._refused = self._refused, {}
        if not refused:
            return
        try:
            self.store.write_refused(refused)
        except Exception:
            logger.exception("unauthenticated-call flush failed; keeping %d rows", len(refused))
            with self._lock:
                for key, tally in refused.items():
                    self._refused.setdefault(key, Tally()).merge(tally)

    def start(self) -> None:
        """Start flushing every ``interval`` seconds (at the first call, or at worker start:
        a fresh install records since when it counts even before anyone calls)."""
        if self.interval <= 0:
            return
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name="usage-flush", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.flush()
            close_old_connections()

    def close(self) -> int:
        self._stop.set()
        return self.flush()


_recorder: UsageRecorder | None = None
_recorder_lock = threading.Lock()


def get_recorder() -> UsageRecorder:
    global _recorder
    if _recorder is None:
        with _recorder_lock:
            if _recorder is None:
                store = import_string(settings.GATEWAY_USAGE_STORE)()
                _recorder = UsageRecorder(store, settings.GATEWAY_USAGE_FLUSH_SECONDS)
                atexit.register(_recorder.close)
    return _recorder


def shutdown() -> None:
    """Flush before the process exits (gunicorn's ``worker_exit`` hook calls this)."""
    if _recorder is not None:
        written = _recorder.close()
        logger.info("usage flushed on shutdown", extra={"calls": written})
        lost = _recorder.pending()
        if lost:
            metrics.USAGE_DROPPED.inc(lost)
            logger.error("usage store unavailable at shutdown: calls lost", extra={"calls": lost})
