"""gateway/usage.py: every call is counted in memory and written as hourly rollups in batches;
the store can fail without a call failing or a count being lost."""

import datetime as dt
import threading
from collections import Counter

import pytest
from django.db import connection, connections
from django.db.models import Sum

from gateway import usage
from gateway.models import LATENCY_BUCKETS_MS, UsageDaily, UsageRollup
from gateway.usage import DatabaseUsageStore, UsageRecorder, UsageStore
from tests.gateway.conftest import UPSTREAM, refused

pytestmark = pytest.mark.django_db

KEY_FIELDS = ("service", "version", "operation", "method", "consumer", "status_class")


class BrokenStore(UsageStore):
    def __init__(self):
        self.attempts = 0

    def write(self, batch):
        self.attempts += 1
        raise ConnectionError("usage database unreachable")


@pytest.fixture
def upstream(upstream):
    upstream.get(f"{UPSTREAM}/v2/faqs/17", json={"id": 17})
    upstream.get(f"{UPSTREAM}/v1/faqs/17", json={"id": 17})
    upstream.get(f"{UPSTREAM}/v2/faqs/404", status=404, json={"status": 404})
    upstream.post(f"{UPSTREAM}/v2/faqs", status=201, json={"id": 18})
    upstream.get(f"{UPSTREAM}/v2/faqs", body=refused())
    return upstream


def counted() -> Counter:
    """Calls per key, whatever the hour (a test may straddle one)."""
    totals = Counter()
    for row in UsageRollup.objects.all():
        assert (row.hour.minute, row.hour.second, row.hour.microsecond) == (0, 0, 0)
        totals[tuple(getattr(row, field) for field in KEY_FIELDS)] += row.count
    return totals


def test_each_call_is_counted_once_under_its_key(
    gateway, make_consumer, recorder, upstream, settings
):
    settings.GATEWAY_RETRIES = 0
    _, bob = make_consumer("bob")
    for _ in range(3):
        gateway.get("/faq/v2/faqs/17")
    gateway.get("/faq/v2/faqs/23", key=bob)  # unregistered: a 502 after the retries
    gateway.get("/faq/v2/faqs/404")
    gateway.post("/faq/v2/faqs", {"question": "Why?", "source": {"kind": "chat"}})
    gateway.get("/faq/v1/faqs/17", key=bob)
    gateway.get("/faq/v2/nowhere/at/all")

    assert recorder.pending() == 8
    assert recorder.flush() == 8

    assert counted() == {
        ("faq", "v2", "/v2/faqs/{entry_id}", "GET", "alice", "2xx"): 3,
        ("faq", "v2", "/v2/faqs/{entry_id}", "GET", "bob", "5xx"): 1,
        ("faq", "v2", "/v2/faqs/{entry_id}", "GET", "alice", "4xx"): 1,
        ("faq", "v2", "/v2/faqs", "POST", "alice", "2xx"): 1,
        ("faq", "v1", "/v1/faqs/{entry_id}", "GET", "bob", "2xx"): 1,
        ("faq", "v2", "(unmatched)", "GET", "alice", "5xx"): 1,
    }
    assert recorder.pending() == 0


def test_rows_are_keyed_by_the_hour_in_utc(recorder):
    when = dt.datetime(2026, 11, 21, 13, 59, 59, 999999, tzinfo=dt.UTC)
    later = dt.datetime(2026, 11, 21, 14, 0, 0, tzinfo=dt.UTC)
    common = dict(service="faq", version="v2", operation="/v2/faqs", method="GET", consumer="c")
    recorder.record(**common, status=200, latency_ms=3, when=when)
    recorder.record(**common, status=204, latency_ms=3, when=when)
    recorder.record(**common, status=200, latency_ms=3, when=later)

    recorder.flush()

    assert dict(UsageRollup.objects.values_list("hour", "count")) == {
        dt.datetime(2026, 11, 21, 13, tzinfo=dt.UTC): 2,
        dt.datetime(2026, 11, 21, 14, tzinfo=dt.UTC): 1,
    }


def test_latency_is_summed_and_the_histogram_adds_up_to_the_count(gateway, recorder, upstream):
    for _ in range(4):
        gateway.get("/faq/v2/faqs/17")
    recorder.flush()

    [row] = UsageRollup.objects.all()
    assert row.count == 4
    assert row.latency_ms_sum > 0
    assert len(row.latency_buckets) == len(LATENCY_BUCKETS_MS) + 1
    assert sum(row.latency_buckets) == 4


def test_latencies_land_in_the_bucket_of_their_upper_bound(recorder):
    common = dict(service="faq", version="v2", operation="/v2/faqs", method="GET", consumer="c")
    for latency in (0.4, 5, 5.01, 10000, 60000):
        recorder.record(**common, status=200, latency_ms=latency)
    recorder.flush()

    [row] = UsageRollup.objects.all()
    expected = [0] * (len(LATENCY_BUCKETS_MS) + 1)
    expected[0], expected[1], expected[-2], expected[-1] = 2, 1, 1, 1
    assert row.latency_buckets == expected
    assert row.latency_ms_sum == pytest.approx(0.4 + 5 + 5.01 + 10000 + 60000)


def test_calls_without_a_valid_key_are_counted_as_anonymous(anonymous, recorder, upstream):
    anonymous.get("/faq/v2/faqs/17")
    anonymous.get("/faq/v1/faqs/17", headers={"Authorization": "Bearer sy_not-a-key"})
    recorder.flush()

    assert counted() == {
        ("faq", "v2", "/v2/faqs/{entry_id}", "GET", "(anonymous)", "4xx"): 1,
        ("faq", "v1", "/v1/faqs/{entry_id}", "GET", "(anonymous)", "4xx"): 1,
    }
    assert len(upstream.calls) == 0


def test_calls_that_are_not_routed_are_not_counted(gateway, recorder, upstream):
    gateway.get("/faq/v9/faqs")
    gateway.get("/nope/v1/x")

    assert recorder.pending() == 0


def test_flushing_twice_does_not_count_twice(gateway, recorder, upstream):
    for _ in range(2):
        gateway.get("/faq/v2/faqs/17")

    assert recorder.flush() == 2
    assert recorder.flush() == 0

    assert UsageRollup.objects.aggregate(total=Sum("count"))["total"] == 2


def test_later_flushes_add_to_the_same_row(gateway, recorder, upstream):
    gateway.get("/faq/v2/faqs/17")
    recorder.flush()
    first_sum = UsageRollup.objects.get().latency_ms_sum
    for _ in range(2):
        gateway.get("/faq/v2/faqs/17")

    recorder.flush()

    row = UsageRollup.objects.get()
    assert row.count == 3
    assert sum(row.latency_buckets) == 3
    assert row.latency_ms_sum > first_sum


def test_a_failing_store_keeps_the_batch_and_no_call_fails(gateway, recorder, upstream):
    broken = BrokenStore()
    recorder.store = broken
    assert [gateway.get("/faq/v2/faqs/17").status_code for _ in range(3)] == [200] * 3

    assert recorder.flush() == 0
    assert gateway.get("/faq/v2/faqs/17").status_code == 200
    assert recorder.flush() == 0

    assert broken.attempts == 2
    assert not UsageRollup.objects.exists()
    assert recorder.pending() == 4
    recorder.store = DatabaseUsageStore()
    assert recorder.flush() == 4
    row = UsageRollup.objects.get()
    assert (row.count, sum(row.latency_buckets)) == (4, 4)
    assert recorder.pending() == 0


def test_a_database_store_that_fails_midway_writes_nothing(recorder, monkeypatch):
    # One transaction per batch: a retry after a failure cannot count the first rows twice.
    for operation in ("/v2/faqs", "/v2/faqs/{entry_id}"):
        recorder.record(
            service="faq",
            version="v2",
            operation=operation,
            method="GET",
            consumer="c",
            status=200,
            latency_ms=1,
        )
    original = UsageRollup.save
    saves = []

    def save_then_fail(self, *args, **kwargs):
        saves.append(self.operation)
        if len(saves) == 2:
            raise ConnectionError("lost the database")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(UsageRollup, "save", save_then_fail)
    assert recorder.flush() == 0
    assert not UsageRollup.objects.exists()

    monkeypatch.setattr(UsageRollup, "save", original)
    assert recorder.flush() == 2
    assert UsageRollup.objects.aggregate(total=Sum("count"))["total"] == 2


def test_the_default_recorder_uses_the_configured_store(settings, monkeypatch):
    settings.GATEWAY_USAGE_STORE = "tests.gateway.test_usage.BrokenStore"
    settings.GATEWAY_USAGE_FLUSH_SECONDS = 0
    monkeypatch.setattr(usage, "_recorder", None)
    monkeypatch.setattr(usage.atexit, "register", lambda function: function)

    recorder = usage.get_recorder()

    assert isinstance(recorder.store, BrokenStore)
    assert usage.get_recorder() is recorder


@pytest.mark.django_db(transaction=True)
def test_concurrent_flushes_of_the_same_key_add_up_exactly():
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; the race needs a server database")
    when = dt.datetime.now(dt.UTC)
    rounds, per_recorder = 5, 25
    operations = [f"/v2/op{i}" for i in range(4)]

    for _ in range(rounds):
        recorders = [UsageRecorder(DatabaseUsageStore(), interval=0) for _ in range(3)]
        for recorder in recorders:
            for operation in operations:
                for _ in range(per_recorder):
                    recorder.record(
                        service="faq",
                        version="v2",
                        operation=operation,
                        method="GET",
                        consumer="c",
                        status=200,
                        latency_ms=2,
                        when=when,
                    )
        start = threading.Barrier(len(recorders))
        written, errors = [], []

        def flush(recorder, start=start, written=written, errors=errors):
            try:
                start.wait()
                written.append(recorder.flush())
            except Exception as exc:  # reported below, with the thread's own error
                errors.append(exc)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=flush, args=(r,)) for r in recorders]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert written == [len(operations) * per_recorder] * len(recorders)

    expected = rounds * len(recorders) * per_recorder
    rows = UsageRollup.objects.order_by("operation")
    assert [row.operation for row in rows] == operations
    assert [row.count for row in rows] == [expected] * len(operations)
    assert [sum(row.latency_buckets) for row in rows] == [expected] * len(operations)
    daily = UsageDaily.objects.order_by("operation")
    assert [(row.operation, row.count) for row in daily] == [(op, expected) for op in operations]


def _sample(name: str) -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value(name) or 0.0


def test_stored_and_failed_flushes_are_metrics(gateway, recorder, upstream):
    stored, failures = (
        _sample("switchyard_gateway_usage_stored_calls_total"),
        _sample("switchyard_gateway_usage_flush_failures_total"),
    )
    recorder.store = BrokenStore()
    gateway.get("/faq/v2/faqs/17")
    recorder.flush()
    recorder.store = DatabaseUsageStore()
    gateway.get("/faq/v2/faqs/17")
    recorder.flush()

    assert _sample("switchyard_gateway_usage_flush_failures_total") - failures == 1
    assert _sample("switchyard_gateway_usage_stored_calls_total") - stored == 2


def test_a_store_down_too_long_drops_the_oldest_calls_and_says_so(recorder, monkeypatch, caplog):
    monkeypatch.setattr(usage, "MAX_PENDING_ROLLUPS", 3)
    dropped = _sample("switchyard_gateway_usage_dropped_calls_total")
    recorder.store = BrokenStore()
    start = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    for hour in range(5):
        for _ in range(hour + 1):
            recorder.record(
                service="faq",
                version="v2",
                operation="/v2/faqs",
                method="GET",
                consumer="c",
                status=200,
                latency_ms=1,
                when=start + dt.timedelta(hours=hour),
            )

    recorder.flush()

    assert recorder.pending() == 3 + 4 + 5  # the three newest hours are kept
    assert _sample("switchyard_gateway_usage_dropped_calls_total") - dropped == 1 + 2
    assert "dropped the oldest calls" in caplog.text
    recorder.store = DatabaseUsageStore()
    assert recorder.flush() == 12
    assert sorted(UsageRollup.objects.values_list("count", flat=True)) == [3, 4, 5]
