"""The deprecation dashboard in a real browser (Debian's Chromium driven by Playwright).

A known sequence of calls goes through a real gateway; the page, logged in as staff, must show
exactly those numbers, the consumers behind them, a drill-down and a CSV download. Screenshots
land in var/screenshots/ (of that run, and of a page over seeded history).
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import time

import pytest

from tests.e2e.browser import chromium, require_browser
from tests.e2e.conftest import REPO_ROOT, Launcher, create_consumer

pytestmark = pytest.mark.e2e

SCREENSHOTS = REPO_ROOT / "var" / "screenshots"
STAFF_PASSWORD = "e2e-Staff-Passw0rd"

require_browser()


def manage(server, *args: str, **extra_env: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT,
        env={**server.env, **extra_env},
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return result.stdout


def make_staff(server) -> None:
    manage(
        server,
        "createsuperuser",
        "--noinput",
        "--username",
        "ops",
        "--email",
        "ops@example.com",
        DJANGO_SUPERUSER_PASSWORD=STAFF_PASSWORD,
    )


@pytest.fixture(scope="module")
def stack(tmp_path_factory, http):
    launcher = Launcher(tmp_path_factory.mktemp("e2e-dashboard"), http)
    secret = os.urandom(16).hex()
    try:
        faq = launcher.start("faq", label="dash-faq", GATEWAY_SECRET=secret)
        gateway = launcher.start(
            "gateway",
            label="dash-gateway",
            GATEWAY_SECRET=secret,
            FAQ_UPSTREAM=faq.url,
            GATEWAY_USAGE_FLUSH_SECONDS="0.2",
        )
        make_staff(gateway)
        yield faq, gateway, launcher
    finally:
        launcher.close()


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


def log_in(page, base: str) -> None:
    page.goto(f"{base}/__dashboard__/")
    assert "/__login__/" in page.url
    assert page.locator("table").count() == 0
    page.fill("#id_username", "ops")
    page.fill("#id_password", STAFF_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/__dashboard__/")


def wait_for_usage(http, gateway, key: str, total: int) -> None:
    deadline = time.monotonic() + 15
    seen = None
    while time.monotonic() < deadline:
        seen = http.get(
            f"{gateway.url}/__usage__/", headers={"Authorization": f"Bearer {key}"}
        ).json()["total"]
        if seen == total:
            return
        time.sleep(0.2)
    raise AssertionError(f"usage total stayed at {seen}, expected {total}")


def test_the_dashboard_shows_exactly_the_calls_made(stack, browser, http, tmp_path):
    _, gateway, _ = stack
    alice = create_consumer(gateway, "alice")
    bob = create_consumer(gateway, "bob")
    platform = create_consumer(gateway, "platform-tools", platform=True)

    def call(key, method, path, **kwargs):
        response = http.request(
            method, f"{gateway.url}{path}", headers={"Authorization": f"Bearer {key}"}, **kwargs
        )
        assert response.status_code < 300, response.text
        return response

    entry = call(bob, "POST", "/faq/v2/faqs", json={"question": "Q?", "source": {"kind": "chat"}})
    entry_id = entry.json()["id"]
    for _ in range(3):
        call(alice, "GET", f"/faq/v1/faqs/{entry_id}")
    call(alice, "POST", "/faq/v1/faqs", json={"question": "How?", "source": "e2e"})
    for _ in range(2):
        call(bob, "GET", "/faq/v2/faqs")
    wait_for_usage(http, gateway, platform, total=7)
    notices = manage(gateway, "notify_laggards", "faq", "v1")
    assert "sent: 1 (alice)" in notices

    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    log_in(page, gateway.url)
    assert_versions_fit(page)

    v1 = page.locator('#versions tr[data-version="faq v1"]')
    v2 = page.locator('#versions tr[data-version="faq v2"]')
    assert v1.locator('[data-field="calls_30"]').inner_text() == "4"
    assert v2.locator('[data-field="calls_30"]').inner_text() == "3"
    assert v1.locator(".state").inner_text() == "deprecated"
    retiring = page.locator("#retiring-faq-v1")
    assert retiring.locator("[data-verdict]").get_attribute("data-verdict") == "unsafe"
    assert "alice" in retiring.locator("[data-verdict]").inner_text()
    row = retiring.locator('tr[data-consumer="alice"]')
    assert row.locator('[data-field="calls_7"]').inner_text() == "4"
    assert row.locator('[data-field="calls_30"]').inner_text() == "4"
    assert (
        time.strftime("%Y-%m-%d", time.gmtime())
        in row.locator('[data-field="last_seen"]').inner_text()
    )
    assert "alice@example.com" in row.inner_text()
    assert "GET /v1/faqs/{entry_id}" in row.inner_text()
    assert "POST /v1/faqs" in row.inner_text()
    assert retiring.locator('tr[data-consumer="bob"]').count() == 0
    migration = row.locator('[data-field="migration"]')
    assert migration.locator(".migration").inner_text() == "not started"
    assert "GET /v1/faqs/{entry_id} → GET /v2/faqs/{entry_id} not started" in migration.inner_text()
    assert "POST /v1/faqs → POST /v2/faqs not started" in migration.inner_text()
    today = time.strftime("%Y-%m-%d", time.gmtime())
    assert row.locator('[data-field="last_notified"]').inner_text().startswith(today)
    assert http.get(f"{gateway.url}/favicon.ico").headers["Content-Type"] == "image/x-icon"

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "dashboard-e2e.png"), full_page=True)

    with page.expect_download() as download_info:
        retiring.locator("a", has_text="CSV").click()
    download = tmp_path / "consumers.csv"
    download_info.value.save_as(download)
    [alice_row] = list(csv.DictReader(download.open(encoding="utf-8")))
    assert (alice_row["consumer"], alice_row["calls_7d"], alice_row["calls_30d"]) == (
        "alice",
        "4",
        "4",
    )

    row.get_by_role("link", name="alice", exact=True).click()
    page.wait_for_url(f"{gateway.url}/__dashboard__/consumers/alice/")
    drill = page.locator('#consumer-versions tr[data-version="faq v1"]')
    assert drill.locator('[data-field="calls_30"]').inner_text() == "4"
    assert page.locator('#consumer-versions tr[data-version="faq v2"]').count() == 0
    page.close()


def assert_versions_fit(page) -> None:
    """The versions table fits its box: nothing clipped inside the scroll area."""
    box = page.locator("#versions").locator("xpath=..")
    scroll, client = box.evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert scroll <= client, f"the versions table is {scroll} px wide in a {client} px box"


def test_the_page_over_seeded_history_decides_at_a_glance(stack, browser, http, tmp_path):
    _, _, launcher = stack
    seeded = launcher.start("gateway", label="dash-seeded", FAQ_UPSTREAM="http://127.0.0.1:9")
    manage(seeded, "usage_synthetic", "--days", "120", "--consumers", "24")
    make_staff(seeded)

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(page, seeded.url)

    rows = page.locator("#versions tbody tr")
    assert rows.count() == 6  # 3 services x 2 versions
    assert_versions_fit(page)
    assert "the earlier part is demo data" in page.locator("#coverage").inner_text()
    assert page.locator("svg.chart polyline").count() >= 6
    assert page.locator("[data-verdict]").count() >= 1
    page.screenshot(path=str(SCREENSHOTS / "dashboard-seeded.png"), full_page=True)
    wide = browser.new_page(viewport={"width": 1920, "height": 1080})
    log_in(wide, seeded.url)
    assert_versions_fit(wide)
    wide.close()
    phone = browser.new_page(viewport={"width": 390, "height": 844})
    log_in(phone, seeded.url)
    phone.screenshot(path=str(SCREENSHOTS / "dashboard-phone.png"))
    # Nothing wider than the phone but the tables' own scroll boxes.
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1
    page.close()
    phone.close()


def test_a_fresh_gateway_records_since_when_it_counts_before_any_call(stack):
    _, _, launcher = stack
    fresh = launcher.start(
        "gateway",
        label="dash-fresh",
        FAQ_UPSTREAM="http://127.0.0.1:9",
        GATEWAY_USAGE_FLUSH_SECONDS="0.2",
    )
    deadline = time.monotonic() + 15
    while True:
        result = subprocess.run(
            [sys.executable, "manage.py", "can_sunset", "faq", "v1", "--quiet-days", "14"],
            cwd=REPO_ROOT,
            env=fresh.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if "usage recorded since" in result.stdout or time.monotonic() > deadline:
            break
        time.sleep(0.5)

    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout.startswith("NOT ENOUGH DATA to sunset faq v1: Not enough data: usage")
    today = time.strftime("%Y-%m-%d", time.gmtime())
    assert f"History: usage recorded since {today}" in result.stdout
