"""What the end-to-end security suite (tests/e2e/test_security.py) found, fixed and pinned here:
JSON nested past the recursion limit at the edge, key guessing through the pages that take
bearer keys, and gunicorn's own refusals as problems."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from gateway import auth, ratelimit
from services.kit import gunicorn_errors
from tests.helpers import assert_problem

pytestmark = pytest.mark.django_db

DEEP = "[" * 10_000 + "]" * 10_000


@pytest.fixture(autouse=True)
def wall_clock(monkeypatch):
    """The failed-authentication window stands still (40 s into a minute)."""
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: 60 * 28_000_000 + 40.0))


def test_json_nested_past_the_recursion_limit_is_a_400_at_the_edge(gateway, upstream, settings):
    settings.GATEWAY_VALIDATE = ["faq:v2"]

    response = gateway.post("/faq/v2/faqs", DEEP.encode(), content_type="application/json")

    body = assert_problem(response, 400, type="https://switchyard.dev/problems/malformed-body")
    assert body["detail"] == "The JSON body is nested too deeply."
    assert upstream.calls == []


@pytest.mark.parametrize("path", ["/__usage__/", "/metrics"])
def test_guessing_keys_on_the_pages_ends_in_429_with_retry_after(client, settings, path):
    settings.GATEWAY_AUTH_FAILURES_PER_MINUTE = 3

    answers = [client.get(path, HTTP_AUTHORIZATION=f"Bearer {auth.new_key()}") for _ in range(4)]

    assert [a.status_code for a in answers] == [401, 401, 401, 429]
    body = assert_problem(answers[-1], 429)
    assert "failed authentications" in body["detail"]
    assert 20 <= int(answers[-1]["Retry-After"]) <= 21


def test_the_pages_and_proxied_calls_share_the_count(client, anonymous, settings):
    settings.GATEWAY_AUTH_FAILURES_PER_MINUTE = 2
    for _ in range(2):
        assert client.get("/__usage__/", HTTP_AUTHORIZATION="Bearer sy_nope").status_code == 401

    proxied = anonymous.get("/faq/v2/faqs/17", headers={"Authorization": "Bearer sy_nope"})

    assert_problem(proxied, 429)


def test_a_platform_key_still_reads_usage_after_others_failed(client, settings, make_consumer):
    settings.GATEWAY_AUTH_FAILURES_PER_MINUTE = 2
    _, key = make_consumer("ops", is_platform=True)
    for _ in range(2):
        client.get("/__usage__/", HTTP_AUTHORIZATION="Bearer sy_nope")

    # The limit is on failed look-ups: past it every key look-up from the address waits.
    assert client.get("/__usage__/", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 429
    assert (
        client.get(
            "/__usage__/", REMOTE_ADDR="203.0.113.5", HTTP_AUTHORIZATION=f"Bearer {key}"
        ).status_code
        == 200
    )


@pytest.mark.parametrize("status", [400, 414, 431, 501])
def test_gunicorns_refusals_are_problems_that_quote_nothing(status):
    raw = gunicorn_errors.problem_bytes(status)

    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0].startswith(f"HTTP/1.1 {status} ")
    assert "Content-Type: application/problem+json" in lines
    assert f"Content-Length: {len(body)}" in lines
    assert "Connection: close" in lines
    problem = json.loads(body)
    assert problem["status"] == status
    assert problem["detail"] == gunicorn_errors.DETAILS[status]
    # The served contracts promise X-Request-ID on every answer, these included.
    assert f"X-Request-ID: {problem['request_id']}" in lines
    assert len(problem["request_id"]) == 32


def test_install_replaces_the_asgi_workers_error_answers():
    from gunicorn.asgi.protocol import ASGIProtocol

    original = ASGIProtocol._send_error_response
    try:
        assert gunicorn_errors.install() is True
        assert gunicorn_errors.install() is True  # twice is once
        written = []
        fake = SimpleNamespace(_safe_write=written.append)
        ASGIProtocol._send_error_response(fake, 431, "Request Header Fields Too Large: X-Big")
        assert len(written) == 1 and written[0].startswith(b"HTTP/1.1 431 ")
        assert gunicorn_errors.DETAILS[431].encode() in written[0]
        assert b"X-Big" not in written[0]
    finally:
        ASGIProtocol._send_error_response = original
