"""``manage.py demo_usage``: the demo's story, marked as demo data, removable in one command."""

import io

import pytest
from django.core.management import call_command

from gateway import dashboard
from gateway.models import UsageCoverage, UsageDaily, UsageRollup

pytestmark = pytest.mark.django_db


def test_the_demo_history_tells_the_story_and_says_it_is_demo_data(recorder):
    call_command("demo_usage", stdout=io.StringIO())

    verdict = dashboard.verdict("faq", "v1", quiet_days=14)
    v2 = {c.name for c in dashboard.consumers_of("faq", "v2", quiet_days=14)}

    assert verdict.answer == "not-safe"
    assert [c.name for c in verdict.callers] == ["legacy-partner"]
    assert {"mobile-app", "support-app"} <= v2
    assert verdict.coverage.demo
    assert UsageCoverage.objects.get().source == UsageCoverage.DEMO


def test_remove_deletes_the_demo_history_and_keeps_live_calls(recorder):
    call_command("demo_usage", stdout=io.StringIO())
    recorder.record(
        service="faq",
        version="v1",
        operation="/v1/faqs",
        method="GET",
        consumer="legacy-partner",
        status=200,
        latency_ms=3,
    )
    recorder.flush()

    call_command("demo_usage", "--remove", stdout=io.StringIO())

    assert list(UsageRollup.objects.values_list("consumer", "count")) == [("legacy-partner", 1)]
    assert UsageDaily.objects.get().count == 1
    assert list(UsageCoverage.objects.values_list("source", flat=True)) == ["live"]


def test_writing_it_again_replaces_it():
    call_command("demo_usage", stdout=io.StringIO())
    first = UsageRollup.objects.count()

    call_command("demo_usage", stdout=io.StringIO())

    assert UsageRollup.objects.count() == first
    assert UsageCoverage.objects.count() == 1
