"""The sunset verdict: never "safe" without the history to know, and a scanner is not a consumer.

The clock is set by each test (``time_machine``); calls go through the real gateway and are
counted by the real usage recorder, whose first flush records since when usage is counted.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
import yaml

from gateway import dashboard, usage
from gateway.models import UnauthenticatedDaily, UsageCoverage, UsageDaily
from tests.helpers import run_command as run

pytestmark = pytest.mark.django_db

UTC = dt.UTC
START = dt.datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def counting_since(moment: dt.datetime) -> usage.UsageRecorder:
    """A gateway process started at ``moment``: its recorder counts from then on."""
    with time_machine.travel(moment, tick=False):
        recorder = usage.UsageRecorder(usage.DatabaseUsageStore(), interval=0)
    usage._recorder = recorder
    return recorder


def refused_call(recorder, address: str) -> None:
    """A 401 on faq v1 from ``address``, as the pipeline records it."""
    recorder.record(
        service="faq",
        version="v1",
        operation="/v1/faqs",
        method="GET",
        consumer=usage.ANONYMOUS,
        status=401,
        latency_ms=1.0,
        client=address,
    )


def call_at(gateway, moment: dt.datetime, path: str = "/faq/v1/faqs/17", **kwargs):
    with time_machine.travel(moment, tick=False):
        return gateway.get(path, **kwargs)


def flush_at(recorder, moment: dt.datetime) -> int:
    with time_machine.travel(moment, tick=False):
        return recorder.flush()


@pytest.fixture
def upstream(upstream):
    upstream.get("http://faq.internal/v1/faqs/17", json={"id": 17})
    upstream.get("http://faq.internal/v2/faqs/17", json={"id": 17})
    return upstream


class TestCoverage:
    def test_a_fresh_install_is_never_safe(self):
        with time_machine.travel(START, tick=False):
            code, out = run("can_sunset", "faq", "v1", "--quiet-days", "14")
            verdict = dashboard.verdict("faq", "v1", quiet_days=14)

        assert code == 2
        assert out.startswith("NOT ENOUGH DATA to sunset faq v1: Not enough data: no usage")
        assert "History: no usage recorded yet." in out
        assert (verdict.answer, verdict.safe, verdict.covered_on) == (
            "not-enough-data",
            False,
            None,
        )

    def test_the_first_flush_records_since_when_usage_is_counted_even_without_calls(self):
        recorder = counting_since(START)

        assert flush_at(recorder, START + dt.timedelta(seconds=5)) == 0
        flush_at(recorder, START + dt.timedelta(days=1))
        counting_since(START + dt.timedelta(days=3)).flush()  # a later worker, a restart

        assert list(UsageCoverage.objects.values_list("since", "source")) == [(START, "live")]

    def test_a_history_shorter_than_the_window_says_when_it_will_be_covered(self):
        flush_at(counting_since(START), START)
        now = START + dt.timedelta(days=5)

        with time_machine.travel(now, tick=False):
            code, out = run("can_sunset", "faq", "v1", "--quiet-days", "14")
            verdict = dashboard.verdict("faq", "v1", quiet_days=14)

        assert code == 2
        assert "usage recorded since 2026-11-02 09:00 UTC" in out
        assert "it will on 2026-11-16 09:00 UTC" in out
        assert verdict.covered_on == START + dt.timedelta(days=14)

    def test_once_the_history_covers_the_window_a_quiet_version_is_safe(self):
        flush_at(counting_since(START), START)

        with time_machine.travel(START + dt.timedelta(days=14, minutes=1), tick=False):
            code, out = run("can_sunset", "faq", "v1", "--quiet-days", "14")

        assert code == 0
        assert out.startswith("SAFE to sunset faq v1: No consumer has ever called faq v1")

    def test_named_callers_make_it_not_safe_even_before_the_window_is_covered(
        self, gateway, upstream
    ):
        recorder = counting_since(START)
        call_at(gateway, START + dt.timedelta(hours=1))
        flush_at(recorder, START + dt.timedelta(hours=1))

        with time_machine.travel(START + dt.timedelta(days=2), tick=False):
            code, out = run("can_sunset", "faq", "v1", "--quiet-days", "14")

        assert code == 1
        assert (
            "NOT SAFE to sunset faq v1: 1 consumer called faq v1 in the last 14 days: alice" in out
        )

    def test_demo_history_counts_and_says_so(self):
        UsageCoverage.objects.create(since=START, source=UsageCoverage.DEMO)

        with time_machine.travel(START + dt.timedelta(days=20), tick=False):
            verdict = dashboard.verdict("faq", "v1", quiet_days=14)

        assert verdict.safe
        assert "demo data" in verdict.reason
        assert verdict.coverage.describe().endswith("(the earlier part is demo data)")


class TestWhoCounts:
    def test_only_unauthenticated_calls_in_the_window_is_safe_and_they_are_reported(
        self, anonymous, upstream
    ):
        recorder = counting_since(START)
        flush_at(recorder, START)
        moment = START + dt.timedelta(days=20)
        for authorization in ("", "Bearer sy_guessed", "Bearer sy_guessed-again"):
            headers = {"Authorization": authorization} if authorization else {}
            assert call_at(anonymous, moment, headers=headers).status_code == 401
        flush_at(recorder, moment)

        with time_machine.travel(moment + dt.timedelta(hours=2), tick=False):
            code, out = run("can_sunset", "faq", "v1", "--quiet-days", "14")
            strict, strict_out = run("can_sunset", "faq", "v1", "--quiet-days", "14", "--strict")
            verdict = dashboard.verdict("faq", "v1", quiet_days=14)

        assert code == 0
        assert "Not counted: 3 unauthenticated calls from 1 address, last on 2026-11-22" in out
        assert (verdict.unauthenticated.calls, verdict.unauthenticated.clients) == (3, 1)
        assert verdict.unauthenticated.last_seen == moment
        assert verdict.callers == []
        assert strict == 1
        assert "1 consumer called faq v1 in the last 14 days: (anonymous)." in strict_out
        assert "Unauthenticated in the last 14 days (counted (--strict))" in strict_out

    def test_a_410_during_a_brownout_is_a_consumer_that_will_break(self, gateway, upstream):
        brownout = dt.datetime(2027, 3, 3, 14, 30, tzinfo=UTC)
        recorder = counting_since(brownout - dt.timedelta(days=60))
        flush_at(recorder, brownout - dt.timedelta(days=60))

        answer = call_at(gateway, brownout)
        flush_at(recorder, brownout)

        assert answer.status_code == 410
        assert not upstream.calls
        with time_machine.travel(brownout + dt.timedelta(days=3), tick=False):
            code, out = run("can_sunset", "faq", "v1", "--quiet-days", "14")
        assert code == 1
        assert "called faq v1 in the last 14 days: alice." in out
        [row] = UsageDaily.objects.filter(consumer="alice", version="v1")
        assert (row.status_class, row.count) == ("4xx", 1)

    def test_every_authenticated_status_counts(self, gateway, upstream):
        upstream.get("http://faq.internal/v1/faqs/18", status=404, json={"detail": "gone"})
        recorder = counting_since(START)
        moment = START + dt.timedelta(days=20)
        assert call_at(gateway, moment, "/faq/v1/faqs/18").status_code == 404
        flush_at(recorder, moment)

        with time_machine.travel(moment + dt.timedelta(days=1), tick=False):
            verdict = dashboard.verdict("faq", "v1", quiet_days=14)

        assert verdict.answer == "not-safe"
        assert [c.name for c in verdict.callers] == ["alice"]

    def test_unauthenticated_calls_are_counted_by_address_without_storing_it(self):
        recorder = usage.UsageRecorder(usage.DatabaseUsageStore(), interval=0)
        for address in ("203.0.113.7", "203.0.113.7", "198.51.100.20"):
            refused_call(recorder, address)
        recorder.flush()

        rows = list(UnauthenticatedDaily.objects.values_list("client", "count"))
        assert sorted(count for _, count in rows) == [1, 2]
        assert not any("203.0.113" in client or "198.51" in client for client, _ in rows)
        assert UsageDaily.objects.get(consumer=usage.ANONYMOUS).count == 3

    def test_a_flood_of_addresses_is_bounded_per_flush(self, monkeypatch):
        monkeypatch.setattr(usage, "MAX_CLIENTS_PER_FLUSH", 2)
        recorder = usage.UsageRecorder(usage.DatabaseUsageStore(), interval=0)
        for number in range(5):
            refused_call(recorder, f"192.0.2.{number}")
        recorder.flush()

        counts = dict(UnauthenticatedDaily.objects.values_list("client", "count"))
        assert len(counts) == 3 and counts[usage.OTHER_CLIENTS] == 3
        assert sum(counts.values()) == 5


@pytest.fixture
def lifecycle_file(tmp_path, settings):
    def write(operations: dict | None = None) -> None:
        spec = {
            "deprecated_at": "2026-11-01T00:00:00Z",
            "sunset_at": "2027-05-01T00:00:00Z",
            "successor": "v2",
        }
        if operations is not None:
            spec["operations"] = operations
        path = tmp_path / "lifecycle.yaml"
        path.write_text(yaml.safe_dump({"faq": {"v1": spec}}))
        settings.GATEWAY_LIFECYCLE_FILE = str(path)

    return write


class TestMigrationView:
    def test_each_old_operation_names_its_successor_and_whether_it_is_called(
        self, gateway, upstream, lifecycle_file
    ):
        lifecycle_file({"faq_answer": "faq_update", "faq_delete": None})
        upstream.put("http://faq.internal/v1/faqs/17/answer", json={"id": 17})
        upstream.delete("http://faq.internal/v1/faqs/17", status=204)
        recorder = counting_since(START)
        moment = START + dt.timedelta(days=20)
        with time_machine.travel(moment, tick=False):
            gateway.get("/faq/v1/faqs/17")
            gateway.get("/faq/v2/faqs/17")
            gateway.put("/faq/v1/faqs/17/answer", {"answer": "Reset it."})
            gateway.delete("/faq/v1/faqs/17")
            recorder.flush()
            [alice] = dashboard.verdict("faq", "v1", quiet_days=14).callers
            code, out = run("can_sunset", "faq", "v1", "--quiet-days", "14")

        moves = {m.operation_id: (m.successor, m.successor_call, m.status) for m in alice.moves}
        assert moves == {
            "faq_retrieve": ("faq_retrieve", "GET /v2/faqs/{entry_id}", "migrating"),
            "faq_answer": ("faq_update", "PATCH /v2/faqs/{entry_id}", "not started"),
            "faq_delete": (None, None, "only the old version"),
        }
        assert alice.migration == "migrating"
        assert code == 1
        assert (
            "alice: PUT /v1/faqs/{entry_id}/answer (faq_answer) -> "
            "PATCH /v2/faqs/{entry_id} (faq_update): not started"
        ) in out
        assert "alice: DELETE /v1/faqs/{entry_id} (faq_delete) -> nothing: only the old" in out

    def test_a_consumer_that_never_called_the_successor_has_not_started(
        self, gateway, upstream, lifecycle_file
    ):
        lifecycle_file()
        recorder = counting_since(START)
        moment = START + dt.timedelta(days=20)
        with time_machine.travel(moment, tick=False):
            gateway.get("/faq/v1/faqs/17")
            recorder.flush()
            [alice] = dashboard.consumers_of("faq", "v1", quiet_days=14)

        assert alice.migration == "not started"
        [move] = alice.moves
        assert (move.successor, move.status) == ("faq_retrieve", "not started")
