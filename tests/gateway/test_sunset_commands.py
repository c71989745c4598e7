"""The sunset gate and the usage table, as a deploy pipeline and an operator run them."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from gateway.models import UsageCoverage, UsageDaily, UsageRollup
from tests.helpers import run_command as run

pytestmark = pytest.mark.django_db


def daily(consumer: str, days_ago: int, count: int = 5, version: str = "v1"):
    seen = timezone.now() - dt.timedelta(days=days_ago)
    return UsageDaily.objects.create(
        day=seen.date(),
        service="faq",
        version=version,
        operation=f"/{version}/faqs",
        method="GET",
        consumer=consumer,
        status_class="2xx",
        count=count,
        latency_buckets=[count] + [0] * 11,
        last_seen=seen,
    )


def test_can_sunset_refuses_while_a_consumer_called_inside_the_window(make_consumer):
    make_consumer("alice")
    daily("alice", days_ago=2)
    daily("bob", days_ago=40)

    code, out = run("can_sunset", "faq", "v1", "--quiet-days", "14")

    assert code == 1
    assert "NOT SAFE to sunset faq v1: 1 consumer called faq v1 in the last 14 days: alice." in out
    assert "alice@example.com" in out
    assert "bob" not in out


def recorded_for(days: int) -> None:
    UsageCoverage.objects.create(since=timezone.now() - dt.timedelta(days=days))


def test_can_sunset_passes_once_the_window_is_quiet():
    recorded_for(days=60)
    daily("alice", days_ago=15)

    code, out = run("can_sunset", "faq", "v1", "--quiet-days", "14")
    longer, _ = run("can_sunset", "faq", "v1", "--quiet-days", "30")

    assert code == 0
    assert out.startswith("SAFE to sunset faq v1: No calls in the last 14 days")
    assert longer == 1


def test_can_sunset_on_a_version_nobody_called():
    recorded_for(days=8)

    code, out = run("can_sunset", "faq", "v2", "--quiet-days", "7")
    too_long, _ = run("can_sunset", "faq", "v2", "--quiet-days", "9")

    assert code == 0
    assert "No consumer has ever called faq v2 in the recorded history (since " in out
    assert too_long == 2


def test_a_quiet_window_under_a_day_is_a_usage_error():
    code, _ = run("can_sunset", "faq", "v1", "--quiet-days", "0")

    assert code == 64


def test_usage_prints_the_rollups_as_a_table():
    daily("alice", days_ago=1, count=7)
    daily("alice", days_ago=3, count=3, version="v2")

    _, out = run("usage", "faq", "--days", "7")
    lines = out.splitlines()

    assert lines[0].split() == [
        "SERVICE",
        "VERSION",
        "CONSUMER",
        "CALLS",
        "ERRORS",
        "LAST",
        "SEEN",
        "(UTC)",
    ]
    assert lines[1].split()[:5] == ["faq", "v1", "alice", "7", "0"]
    assert lines[2].split()[:5] == ["faq", "v2", "alice", "3", "0"]
    assert lines[-1] == "10 calls in the last 7 days."


def test_synthetic_history_fills_both_rollups_and_refuses_to_mix():
    out = io.StringIO()
    call_command("usage_synthetic", days=3, consumers=3, operations=4, stdout=out)

    assert UsageRollup.objects.exists() and UsageDaily.objects.exists()
    hourly_total = sum(UsageRollup.objects.values_list("count", flat=True))
    daily_total = sum(UsageDaily.objects.values_list("count", flat=True))
    assert hourly_total == daily_total > 0
    with pytest.raises(CommandError, match="pass --clear"):
        call_command("usage_synthetic", days=1, consumers=1, stdout=out)
