"""One hung service cannot take the gateway from the others: real gunicorn gateways in front of
an upstream that accepts calls and never answers (the FAQ here) and one that answers at once
(tickets). Calls over the hung upstream's share (its bulkhead) are refused at once with 503;
calls to tickets keep their normal latency throughout."""

from __future__ import annotations

import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import Launcher, create_consumer, wait_until_healthy
from tests.e2e.fakes import HangingUpstream
from tests.helpers import assert_problem

pytestmark = pytest.mark.e2e

READ_TIMEOUT = 8.0
METRICS_TOKEN = "bulkhead-scrape-token"
HUNG_CALLS = 24


class QuickUpstream:
    """Answers every call at once with a small JSON body."""

    def __init__(self):
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format, *args):
                pass

            def do_GET(self):
                body = json.dumps({"path": self.path}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def gateway_settings(hung: HangingUpstream, quick: QuickUpstream, **extra: str) -> dict:
    inherited = {
        name: None
        for name in os.environ
        if name.startswith(("GATEWAY_", "GUNICORN_")) or name.endswith("_UPSTREAM")
    }
    return {
        **inherited,
        "FAQ_UPSTREAM": hung.url,
        "TICKETS_UPSTREAM": quick.url,
        "GATEWAY_READ_TIMEOUT": str(READ_TIMEOUT),
        "GATEWAY_RATE_LIMIT_PER_MINUTE": "0",
        # Every hung call is a timeout: the breaker must not be what protects the others here.
        "GATEWAY_BREAKER_FAILURES": "1000",
        "GATEWAY_METRICS_TOKEN": METRICS_TOKEN,
        **extra,
    }


@pytest.fixture
def upstreams():
    with ExitStack() as stack:
        hung, quick = HangingUpstream(), QuickUpstream()
        stack.callback(hung.close)
        stack.callback(quick.close)
        yield hung, quick


@pytest.fixture
def start_gateway(tmp_path, http, upstreams):
    launcher = Launcher(tmp_path, http)

    def start(**extra: str):
        server = launcher.spawn("gateway", **gateway_settings(*upstreams, **extra))
        key = create_consumer(server, "caller")
        wait_until_healthy(server, http)
        return server, {"Authorization": f"Bearer {key}"}

    yield start
    launcher.close()


def hang(server, headers, count: int, hung: HangingUpstream) -> tuple[ThreadPoolExecutor, list]:
    """Start ``count`` calls to the hung upstream, each on its own connection; returns once each
    is either hanging upstream or already answered."""
    pool = ThreadPoolExecutor(count)

    def call():
        started = time.monotonic()
        response = requests.get(
            f"{server.url}/faq/v2/faqs/1", headers=headers, timeout=READ_TIMEOUT + 20
        )
        return response, time.monotonic() - started

    futures = [pool.submit(call) for _ in range(count)]
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        answered = sum(future.done() for future in futures)
        if hung.waiting + answered >= count:
            break
        time.sleep(0.05)
    return pool, futures


def quick_calls(server, headers, count: int) -> list[float]:
    """``count`` calls to the answering upstream, one after another on fresh connections."""
    timings = []
    for index in range(count):
        started = time.monotonic()
        response = requests.get(
            f"{server.url}/tickets/v2/tickets/{index + 1}",
            headers={**headers, "Connection": "close"},
            timeout=10,
        )
        timings.append(time.monotonic() - started)
        assert response.status_code == 200, response.content[:300]
        assert response.json() == {"path": f"/v2/tickets/{index + 1}"}
    return timings


def test_calls_to_other_services_keep_their_latency_while_one_hangs(start_gateway, upstreams):
    hung, _ = upstreams
    server, headers = start_gateway()  # the defaults: 2 workers

    pool, futures = hang(server, headers, HUNG_CALLS, hung)
    try:
        assert hung.waiting >= 1, "no call reached the hung upstream"
        timings = quick_calls(server, headers, 20)
        still_hanging = hung.waiting
    finally:
        pool.shutdown(wait=True)

    assert max(timings) < 1.0, timings
    assert still_hanging >= 1, "the hung calls ended before the other calls were measured"
    # Each hung call ends as a timeout, or was refused at once for being over the share.
    for future in futures:
        response, elapsed = future.result()
        if response.status_code == 503:
            assert elapsed < 1.0, elapsed
        else:
            assert_problem(response, 504)


def test_calls_over_the_share_are_refused_at_once_and_counted(start_gateway, upstreams, http):
    hung, _ = upstreams
    server, headers = start_gateway(WEB_CONCURRENCY="1", GATEWAY_UPSTREAM_CONCURRENCY="3")

    pool, futures = hang(server, headers, 10, hung)
    try:
        deadline = time.monotonic() + 10
        while sum(future.done() for future in futures) < 7 and time.monotonic() < deadline:
            time.sleep(0.05)
        refused = [future.result() for future in futures if future.done()]
        waiting = hung.waiting
        timings = quick_calls(server, headers, 10)
    finally:
        pool.shutdown(wait=True)

    assert waiting == 3
    assert len(refused) == 7
    for response, elapsed in refused:
        body = assert_problem(response, 503)
        assert body["detail"] == "faq has too many calls in flight; retry shortly."
        assert response.headers["Retry-After"] == "1"
        assert elapsed < 1.0, elapsed
    assert max(timings) < 1.0, timings
    assert sorted(future.result()[0].status_code for future in futures) == [503] * 7 + [504] * 3

    scrape = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    metrics = http.get(f"{server.url}/metrics", headers=scrape).text
    failures = {
        sample.labels["kind"]: sample.value
        for family in text_string_to_metric_families(metrics)
        for sample in family.samples
        if sample.name == "switchyard_gateway_upstream_failures_total"
        and sample.labels["service"] == "faq"
    }
    assert failures == {"bulkhead-full": 7.0, "read-timeout": 3.0}
