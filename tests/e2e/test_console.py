"""The try-it console (/__doc__/{service}/{version}/) in a real browser (Debian's Chromium driven
by Playwright), against a real gateway and faq service.

A consumer authorizes with its key, tries faq v1's list and sees the gateway's answer, lifecycle
headers included; the page's Content-Security-Policy must never have had to refuse anything, and
no request may leave the gateway's origin.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from tests.e2e.browser import chromium, require_browser
from tests.e2e.conftest import Launcher, create_consumer

pytestmark = pytest.mark.e2e

require_browser()

# Swagger UI's own deep link ids: operations-{tag}-{operationId}.
FAQ_LIST = "#operations-faq-faq_list"


@pytest.fixture(scope="module")
def stack(tmp_path_factory, http):
    launcher = Launcher(tmp_path_factory.mktemp("e2e-console"), http)
    try:
        faq = launcher.start("faq", label="console-faq")
        gateway = launcher.start("gateway", label="console-gateway", FAQ_UPSTREAM=faq.url)
        yield gateway
    finally:
        launcher.close()


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


class Watched:
    """What a page did besides rendering: console errors, uncaught errors, CSP refusals (as the
    page's own securitypolicyviolation events) and every request it made."""

    def __init__(self, page):
        self.errors: list[str] = []
        self.requests: list = []
        page.add_init_script(
            "window.__violations = [];"
            "document.addEventListener('securitypolicyviolation', e => window.__violations.push("
            "e.violatedDirective + ' ' + e.blockedURI));"
        )
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))
        page.on("request", lambda request: self.requests.append(request))
        self.page = page

    def _console(self, message) -> None:
        if message.type in {"error", "warning"}:
            self.errors.append(f"console {message.type}: {message.text}")

    def violations(self) -> list[str]:
        return self.page.evaluate("window.__violations")


def test_a_consumer_authorizes_and_tries_faq_list_through_the_gateway(stack, browser, http):
    gateway = stack
    key = create_consumer(gateway, "console-user")
    http.post(
        f"{gateway.url}/faq/v1/faqs",
        json={"question": "Where is the console?", "source": "e2e"},
        headers={"Authorization": f"Bearer {key}"},
    ).raise_for_status()
    origin = gateway.url

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    watched = Watched(page)
    response = page.goto(f"{origin}/__doc__/faq/v1/")
    assert response.status == 200
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert "faq v1 is deprecated." in page.locator(".banner").inner_text()

    # Authorize: the served contract's bearer scheme takes the consumer key.
    page.locator(".auth-wrapper button.authorize").click()
    dialog = page.locator(".dialog-ux .modal-ux")
    dialog.locator("input").first.fill(key)
    dialog.locator(".auth-btn-wrapper button.authorize").click()
    dialog.locator(".auth-btn-wrapper button.btn-done").click()

    # Try it out: GET /v1/faqs, sent to the served servers URL (this gateway).
    operation = page.locator(FAQ_LIST)
    operation.locator(".opblock-summary").first.click()
    operation.locator("button.try-out__btn").click()
    with page.expect_response(re.compile(r"/faq/v1/faqs(\?|$)")) as answered:
        operation.locator("button.execute").click()
    call = answered.value
    assert call.status == 200
    assert call.request.headers["authorization"] == f"Bearer {key}"
    assert call.url.startswith(f"{origin}/faq/v1/faqs")

    live = operation.locator(".live-responses-table")
    live.wait_for()
    assert live.locator("tbody .response-col_status").first.inner_text().strip() == "200"
    shown = live.locator("tbody .response-col_description").first.inner_text()
    assert "Where is the console?" in shown
    assert re.search(r"deprecation: @\d+", shown), shown
    assert "sunset:" in shown
    assert "x-request-id:" in shown

    assert watched.violations() == []
    assert watched.errors == []
    foreign = [r.url for r in watched.requests if not _same_origin(r.url, origin)]
    assert foreign == []
    assert any(r.url.endswith("/__api__/faq/v1.json") for r in watched.requests)
    page.close()


def _same_origin(url: str, origin: str) -> bool:
    if url.startswith(("data:", "blob:")):
        return True
    parts, own = urlsplit(url), urlsplit(origin)
    return (parts.scheme, parts.netloc) == (own.scheme, own.netloc)
