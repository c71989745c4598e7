"""The deprecation dashboard: staff only, and its numbers are the calls that were made."""

import csv
import datetime as dt
import io
import itertools
import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from gateway import charts, dashboard
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
    assert alice["migration"] == "not started"
    assert alice["successors"] == (
        "GET /v1/faqs/{entry_id} (faq_retrieve) -> GET /v2/faqs/{entry_id} (faq_retrieve): "
        "not started"
    )
    assert alice["last_notified"] == ""


def test_a_fresh_install_says_there_is_no_data_yet(staff, routed):
    page = staff.get("/__dashboard__/").content.decode()

    assert "No usage recorded yet." in page
    assert "Safe to sunset" not in page
    assert 'data-verdict="not-enough-data"' in page
    assert "No calls recorded yet" in page  # in the empty charts


def test_the_migration_and_the_last_notice_are_in_the_consumer_tables(
    staff, gateway, upstream, recorder
):
    from gateway.models import Notice

    calls(gateway, upstream, recorder, 2, "/faq/v1/faqs/17")
    Notice.objects.create(
        consumer="alice",
        service="faq",
        version="v1",
        sent_at=dt.datetime(2026, 11, 30, 9, 15, tzinfo=dt.UTC),
        recipients="alice@example.com",
        subject="s",
        body="b",
    )

    page = staff.get("/__dashboard__/").content.decode()
    detail = staff.get("/__dashboard__/consumers/alice/").content.decode()

    for html in (page, detail):
        assert '<span class="migration not-started">not started</span>' in html
        assert (
            "<code>GET /v1/faqs/{entry_id}</code> → <code>GET /v2/faqs/{entry_id}</code> "
            "<em>not started</em>"
        ) in html
        assert '<td data-field="last_notified">2026-11-30 09:15</td>' in html


def test_the_dashboard_has_a_favicon():
    response = Client().get("/favicon.ico")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00"


@pytest.mark.parametrize(
    ("peak", "expected"),
    [
        (0, [0, 1]),
        (4, [0, 1, 2, 3, 4]),
        (18, [0, 5, 10, 15, 20]),
        (25, [0, 10, 20, 30]),
        (1234, [0, 500, 1000, 1500]),
    ],
)
def test_chart_axes_have_round_ticks(peak, expected):
    assert charts.ticks(peak) == expected
    for step in {b - a for a, b in itertools.pairwise(expected)}:
        assert str(step).rstrip("0") in {"1", "2", "5"}


def test_lines_with_equal_values_stay_visible():
    svg = charts.line_chart({"v1": [3, 3, 3], "v2": [3, 3, 3]}, end=dt.date(2026, 12, 1), title="t")

    widths = [float(w) for w in re.findall(r'<polyline [^>]*stroke-width="([\d.]+)"', svg)]
    assert len(widths) == 2 and widths[0] > widths[1]
    assert 'class="axis" text-anchor="end">0<' in svg and 'text-anchor="end">3<' in svg
