"""gateway/edge.py: the front door. Proxied calls are judged on their headers before anything
reads them, carry a request id, leave one log line, and fail without a trace; everything else
goes to Django."""

import json
import logging

import pytest
from asgiref.sync import async_to_sync

from gateway import pipeline
from gateway.edge import GatewayApplication
from tests.gateway.conftest import UPSTREAM, asgi_scope, run_asgi
from tests.helpers import assert_problem

pytestmark = pytest.mark.django_db

ENTRY = f"{UPSTREAM}/v2/faqs/17"


class TestRequestGuard:
    def test_a_chunked_body_is_411_and_never_forwarded(self, gateway, upstream):
        response = gateway.post(
            "/faq/v2/faqs", b"", headers={"Transfer-Encoding": "chunked"}, content_type="text/plain"
        )

        assert_problem(response, 411)
        assert upstream.calls == []

    def test_a_body_over_the_limit_is_413_before_it_is_read(self, gateway, upstream, settings):
        settings.MAX_REQUEST_BODY_BYTES = 1000

        response = gateway.post("/faq/v2/faqs", b"x" * 1001, content_type="text/plain")

        body = assert_problem(response, 413)
        assert body["limit"] == 1000
        assert upstream.calls == []

    def test_a_content_length_that_is_not_a_number_is_400(self, gateway, upstream):
        response = gateway.get("/faq/v2/faqs", headers={"Content-Length": "ten"})

        assert "Content-Length" in assert_problem(response, 400)["detail"]
        assert upstream.calls == []

    def test_a_host_outside_allowed_hosts_is_400(self, gateway, upstream, settings):
        settings.ALLOWED_HOSTS = ["gateway.example"]

        response = gateway.get("/faq/v2/faqs")  # Host: testserver

        assert "host" in assert_problem(response, 400)["detail"]
        assert upstream.calls == []

    def test_an_empty_json_body_is_400(self, gateway, upstream):
        response = gateway.call("PATCH", "/faq/v2/faqs/17", b"", content_type="application/json")

        assert_problem(response, 400)
        assert upstream.calls == []


def test_every_answer_carries_the_request_id_even_a_refusal(gateway, upstream):
    response = gateway.get(
        "/faq/v2/faqs", headers={"X-Request-ID": "edge-1", "Content-Length": "x"}
    )

    assert response["X-Request-ID"] == "edge-1"
    assert assert_problem(response, 400)["request_id"] == "edge-1"


def test_each_call_leaves_one_log_line_with_its_consumer(gateway, upstream, caplog):
    upstream.get(ENTRY, json={"id": 17})

    with caplog.at_level(logging.INFO, logger="switchyard.request"):
        gateway.get("/faq/v2/faqs/17", headers={"X-Request-ID": "edge-2"})

    [record] = [r for r in caplog.records if r.name == "switchyard.request"]
    assert (record.method, record.path, record.status) == ("GET", "/faq/v2/faqs/17", 200)
    assert record.consumer == "alice"
    assert record.request_id == "edge-2"


def test_an_unexpected_failure_is_a_traceless_500_that_is_logged(caplog):
    async def broken(call):
        raise RuntimeError("secret internals")

    application = GatewayApplication(None, handle=broken)

    with caplog.at_level(logging.ERROR, logger="switchyard.errors"):
        response = run_asgi(application, "GET", "/faq/v2/faqs/1", {"X-Request-ID": "edge-3"}, b"")

    body = assert_problem(response, 500)
    assert "secret internals" not in response.body.decode()
    assert body["request_id"] == "edge-3"
    [record] = caplog.records
    assert record.exc_info and record.request_id == "edge-3"


@pytest.mark.parametrize("path", ["/__health__", "/metrics", "/__dashboard__/", "/faq"])
def test_everything_else_goes_to_django(path):
    seen = []

    async def django(scope, receive, send):
        seen.append(scope["path"])

    async def never(call):
        raise AssertionError("the pipeline ran")

    async_to_sync(GatewayApplication(django, handle=never))(asgi_scope("GET", path), None, None)

    assert seen == [path]


def test_the_lifespan_is_answered_and_shutdown_closes_the_sessions():
    messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent = []

    async def receive():
        return messages.pop(0)

    async def send(message):
        sent.append(message["type"])

    async_to_sync(GatewayApplication(None))({"type": "lifespan"}, receive, send)

    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def test_a_large_body_is_streamed_and_arrives_whole(gateway, upstream):
    payload = json.dumps({"items": ["x" * 1000] * 200}).encode()  # over the whole-body limit
    assert len(payload) > pipeline.WHOLE_BODY_BYTES
    upstream.get(ENTRY, body=payload, content_type="application/json")

    response = gateway.get("/faq/v2/faqs/17")

    assert response.status_code == 200
    assert response.body == payload
    [sent] = upstream.responses
    assert sent.released
