"""The deprecation dashboard: staff only, and its numbers are the calls that were made."""

import csv
import datetime as dt
import io

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from gateway import dashboard
from gateway.models import UsageCoverage, UsageDaily

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    client = Client()
    user = get_user_model().objects.create_user("ops", "ops@example.com", "pw", is_staff=True)
    client.force_login(user)
    return client


def calls(gateway, upstream, recorder, n: int, path: str, method: str = "GET"):
    """Make n real calls through the gateway, then flush their usage."""
    upstream.add(method, f"http://faq.internal{path.removeprefix('/faq')}", json={}, status=200)
    for _ in range(n):
        assert gateway.call(method, path).status_code == 200
    recorder.flush()


def table_rows(html: str, marker: str) -> list[str]:
    return [line for line in html.splitlines() if marker in line]


@pytest.mark.parametrize(
    "url",
    [
        "/__dashboard__/",
        "/__dashboard__/consumers/alice/",
        "/__dashboard__/export/versions.csv",
        "/__dashboard__/export/consumers/faq/v1.csv",
    ],
)
def test_logged_out_is_sent_to_log_in_and_shown_nothing(url):
    response = Client().get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/__login__/?next=")
    assert b"alice" not in response.content


def test_a_user_who_is_not_staff_is_sent_to_log_in_too():
    client = Client()
    client.force_login(get_user_model().objects.create_user("dev", "dev@example.com", "pw"))

    assert client.get("/__dashboard__/").status_code == 302


def test_login_page_logs_staff_in_and_returns_them(client=None):
    get_user_model().objects.create_user("ops", "ops@example.com", "s3cret!", is_staff=True)
    client = Client()

    page = client.get("/__login__/?next=/__dashboard__/")
    response = client.post(
        "/__login__/",
        {"username": "ops", "password": "s3cret!", "next": "/__dashboard__/"},
    )

    assert page.status_code == 200
    assert response.status_code == 302
    assert response["Location"] == "/__dashboard__/"
    assert client.get("/__dashboard__/").status_code == 200


def test_counts_consumers_and_verdict_match_the_calls_made(
    staff, gateway, upstream, recorder, make_consumer
):
    calls(gateway, upstream, recorder, 3, "/faq/v1/faqs/17")
    calls(gateway, upstream, recorder, 2, "/faq/v1/faqs", method="POST")
    calls(gateway, upstream, recorder, 4, "/faq/v2/faqs")

    summary = {f"{s.service} {s.version}": s for s in dashboard.versions()}
    [alice] = dashboard.consumers_of("faq", "v1", quiet_days=14)
    page = staff.get("/__dashboard__/").content.decode()

    assert (summary["faq v1"].calls_30, summary["faq v2"].calls_30) == (5, 4)
    assert summary["faq v1"].state == "deprecated"
    assert round(summary["faq v1"].share_30, 3) == round(5 / 9, 3)
    assert (alice.name, alice.owner, alice.contact) == ("alice", "Team alice", "alice@example.com")
    assert (alice.calls_7, alice.calls_30) == (5, 5)
    assert alice.operations == ["GET /v1/faqs/{entry_id}", "POST /v1/faqs"]
    assert timezone.now() - alice.last_seen < dt.timedelta(minutes=5)
    [row] = table_rows(page, 'data-version="faq v1"')
    assert row
    assert 'data-field="calls_30">5<' in page
    assert 'data-verdict="unsafe"' in page
    assert "1 consumer called faq v1 in the last 14 days: alice." in page
    assert 'href="/__dashboard__/consumers/alice/"' in page
    assert "<svg" in page and "faq: calls per day, last 30 days" in page


def test_old_calls_make_a_version_safe_to_sunset(staff):
    long_ago = timezone.now() - dt.timedelta(days=20)
    UsageCoverage.objects.create(since=long_ago - dt.timedelta(days=30))
    UsageDaily.objects.create(
        day=long_ago.date(),
        service="faq",
        version="v1",
        operation="/v1/faqs",
        method="GET",
        consumer="alice",
        status_class="2xx",
        count=9,
        latency_buckets=[9] + [0] * 11,
        last_seen=long_ago,
    )

    verdict = dashboard.verdict("faq", "v1", quiet_days=14)
    page = staff.get("/__dashboard__/").content.decode()

    assert verdict.safe
    assert verdict.reason.startswith("No calls in the last 14 days; the last was on")
    assert 'data-verdict="safe"' in page
    assert dashboard.verdict("faq", "v1", quiet_days=30).answer == "not-safe"


def test_latency_percentiles_come_from_the_histograms():
    assert dashboard.percentile([0] * 12, 0.5) is None
    assert dashboard.percentile([10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 0.95) == 5.0
    assert dashboard.percentile([50, 0, 0, 45, 0, 0, 0, 0, 0, 0, 0, 5], 0.5) == 5.0
    assert dashboard.percentile([50, 0, 0, 45, 0, 0, 0, 0, 0, 0, 0, 5], 0.95) == 50.0
    assert dashboard.percentile([50, 0, 0, 40, 0, 0, 0, 0, 0, 0, 0, 10], 0.95) == float("inf")


def test_error_rate_counts_4xx_and_5xx(gateway, upstream, recorder):
    upstream.add("GET", "http://faq.internal/v2/faqs/1", json={}, status=200)
    upstream.add("GET", "http://faq.internal/v2/faqs/2", json={}, status=404)
    upstream.add("GET", "http://faq.internal/v2/faqs/3", json={}, status=500)
    for path in ("/faq/v2/faqs/1", "/faq/v2/faqs/1", "/faq/v2/faqs/2", "/faq/v2/faqs/3"):
        gateway.get(path)
    recorder.flush()

    [v2] = [s for s in dashboard.versions() if (s.service, s.version) == ("faq", "v2")]

    assert (v2.calls_30, v2.errors_30, v2.error_rate) == (4, 2, 0.5)


def test_consumer_drill_down(staff, gateway, upstream, recorder):
    calls(gateway, upstream, recorder, 2, "/faq/v1/faqs/17")
    calls(gateway, upstream, recorder, 1, "/faq/v2/faqs")

    page = staff.get("/__dashboard__/consumers/alice/").content.decode()

    assert "Team alice" in page and "alice@example.com" in page
    assert 'data-version="faq v1"' in page and 'data-version="faq v2"' in page
    assert "GET /v1/faqs/{entry_id}" in page
    assert staff.get("/__dashboard__/consumers/nobody/").status_code == 404


def test_csv_exports_are_the_tables(staff, gateway, upstream, recorder):
    calls(gateway, upstream, recorder, 3, "/faq/v1/faqs/17")

    versions = staff.get("/__dashboard__/export/versions.csv")
    people = staff.get("/__dashboard__/export/consumers/faq/v1.csv")

    assert versions["Content-Type"] == "text/csv; charset=utf-8"
    assert people["Content-Disposition"] == 'attachment; filename="consumers-faq-v1.csv"'
    rows = {r["version"]: r for r in csv.DictReader(io.StringIO(versions.content.decode()))}
    assert rows["v1"]["calls_30d"] == "3" and rows["v1"]["state"] == "deprecated"
    [alice] = list(csv.DictReader(io.StringIO(people.content.decode())))
    assert (alice["consumer"], alice["contact"], alice["calls_7d"]) == (
        "alice",
        "alice@example.com",
        "3",
    )
    assert alice["called_in_last_14_days"] == "yes"
