"""gateway/proxy.py: what crosses the gateway in each direction, and what happens when the
upstream cannot be reached."""

import gzip
import json

import aiohttp
import pytest

from services.kit.gateway_trust import verify
from tests.gateway.conftest import (
    UPSTREAM,
    FakeResponse,
    connect_timeout,
    read_timeout,
    refused,
    reset,
)
from tests.helpers import assert_problem

pytestmark = pytest.mark.django_db

ENTRY = f"{UPSTREAM}/v2/faqs/17"


@pytest.fixture
def entry(upstream):
    """GET /v2/faqs/17 answers 200; returns a function giving the headers the upstream got."""
    upstream.get(ENTRY, json={"id": 17})

    def received():
        [call] = upstream.calls
        return call.request.headers

    return received


class TestRequestHeaders:
    def test_hop_by_hop_headers_never_reach_the_upstream(self, gateway, entry):
        gateway.get(
            "/faq/v2/faqs/17",
            headers={
                "Connection": "close, X-Secret",
                "X-Secret": "1",
                "Keep-Alive": "timeout=5",
                "TE": "trailers",
                "Trailer": "X-Checksum",
                "Upgrade": "websocket",
                "Proxy-Authorization": "Basic cHJveHk6cHc=",
                "Proxy-Connection": "keep-alive",
                "X-End-To-End": "kept",
            },
        )

        sent = entry()
        for name in ("X-Secret", "Keep-Alive", "TE", "Trailer", "Upgrade", "Proxy-Authorization"):
            assert name not in sent, name
        assert "Proxy-Connection" not in sent
        # The gateway's own connection to the upstream has its own Connection header (if any).
        assert "secret" not in sent.get("Connection", "").lower()
        assert "close" not in sent.get("Connection", "").lower()
        assert sent["X-End-To-End"] == "kept"

    def test_the_key_and_cookies_never_leave_the_gateway(self, gateway, key, entry):
        gateway.get("/faq/v2/faqs/17", headers={"Cookie": "sessionid=abc; csrftoken=def"})

        sent = entry()
        assert "Authorization" not in sent
        assert "Cookie" not in sent
        assert not any(key in value for value in sent.values())

    def test_end_to_end_headers_are_passed_on(self, gateway, entry):
        gateway.get(
            "/faq/v2/faqs/17",
            headers={
                "Accept": "application/json",
                "Accept-Language": "de",
                "Accept-Encoding": "gzip",
                "If-None-Match": '"abc"',
                "User-Agent": "mobile/1.0",
            },
        )

        sent = entry()
        assert sent["Accept"] == "application/json"
        assert sent["Accept-Language"] == "de"
        assert sent["Accept-Encoding"] == "gzip"
        assert sent["If-None-Match"] == '"abc"'
        assert sent["User-Agent"] == "mobile/1.0"

    def test_forwarding_headers_say_who_called_how_and_under_which_prefix(self, gateway, entry):
        gateway.get("/faq/v2/faqs/17")

        sent = entry()
        assert sent["X-Forwarded-For"] == "127.0.0.1"
        assert sent["X-Forwarded-Proto"] == "http"
        assert sent["X-Forwarded-Host"] == "testserver"
        assert sent["X-Forwarded-Prefix"] == "/faq"

    def test_forwarding_headers_follow_a_https_call(self, gateway, entry):
        gateway.get("/faq/v2/faqs/17", secure=True)

        assert entry()["X-Forwarded-Proto"] == "https"

    def test_the_client_address_is_appended_to_an_earlier_forwarded_for(self, gateway, entry):
        gateway.get("/faq/v2/faqs/17", headers={"X-Forwarded-For": "203.0.113.9"})

        assert entry()["X-Forwarded-For"] == "203.0.113.9, 127.0.0.1"

    def test_a_client_cannot_choose_the_forwarded_host_or_prefix(self, gateway, entry):
        gateway.get(
            "/faq/v2/faqs/17",
            headers={"X-Forwarded-Host": "evil.example", "X-Forwarded-Prefix": "/evil"},
        )

        sent = entry()
        assert sent["X-Forwarded-Host"] == "testserver"
        assert sent["X-Forwarded-Prefix"] == "/faq"

    def test_the_callers_request_id_is_passed_on_and_echoed(self, gateway, entry):
        response = gateway.get("/faq/v2/faqs/17", headers={"X-Request-ID": "trace-42"})

        assert entry()["X-Request-ID"] == "trace-42"
        assert response["X-Request-ID"] == "trace-42"

    def test_without_a_request_id_one_fresh_id_goes_upstream_and_back(self, gateway, entry):
        response = gateway.get("/faq/v2/faqs/17")

        minted = entry()["X-Request-ID"]
        assert len(minted) == 32
        assert response["X-Request-ID"] == minted

    def test_an_unsafe_request_id_is_replaced_not_forwarded(self, gateway, entry):
        response = gateway.get("/faq/v2/faqs/17", headers={"X-Request-ID": "<script>"})

        assert entry()["X-Request-ID"] == response["X-Request-ID"] != "<script>"

    def test_a_client_cannot_pose_as_another_consumer(self, gateway, entry):
        gateway.get(
            "/faq/v2/faqs/17",
            headers={"X-Switchyard-Consumer": "mallory", "X-Switchyard-Signature": "t=1,v1=00"},
        )

        sent = entry()
        assert sent["X-Switchyard-Consumer"] == "alice"
        assert "X-Switchyard-Signature" not in sent  # no secret configured: nothing is signed


class TestSignature:
    SECRET = "gateway-and-services-share-this"

    def test_the_forwarded_call_is_signed_for_the_upstream_path(self, gateway, entry, settings):
        settings.GATEWAY_SECRET = self.SECRET

        gateway.get("/faq/v2/faqs/17", headers={"X-Switchyard-Signature": "t=1,v1=forged"})

        signature = entry()["X-Switchyard-Signature"]
        assert verify(
            self.SECRET, signature, method="GET", path="/v2/faqs/17", consumer="alice", max_age=300
        )

    @pytest.mark.parametrize(
        ("method", "path", "consumer"),
        [
            ("GET", "/faq/v2/faqs/17", "alice"),  # the gateway's path, not the upstream's
            ("GET", "/v1/faqs/17", "alice"),
            ("DELETE", "/v2/faqs/17", "alice"),
            ("GET", "/v2/faqs/17", "bob"),
        ],
    )
    def test_the_signature_covers_method_path_and_consumer(
        self, gateway, entry, settings, method, path, consumer
    ):
        settings.GATEWAY_SECRET = self.SECRET

        gateway.get("/faq/v2/faqs/17")

        signature = entry()["X-Switchyard-Signature"]
        assert not verify(
            self.SECRET, signature, method=method, path=path, consumer=consumer, max_age=300
        )
        assert not verify(
            "another-secret",
            signature,
            method="GET",
            path="/v2/faqs/17",
            consumer="alice",
            max_age=300,
        )


class TestResponses:
    def test_hop_by_hop_headers_never_reach_the_client(self, gateway, upstream):
        upstream.get(
            ENTRY,
            json={"id": 17},
            headers={
                "Connection": "X-Internal",
                "X-Internal": "1",
                "Keep-Alive": "timeout=5",
                "Proxy-Authenticate": 'Basic realm="inside"',
                "Trailer": "X-Checksum",
                "Upgrade": "h2c",
                "X-Public": "yes",
                "ETag": '"v7"',
            },
        )

        response = gateway.get("/faq/v2/faqs/17")

        assert response.status_code == 200
        for name in (
            "Connection",
            "X-Internal",
            "Keep-Alive",
            "Proxy-Authenticate",
            "Trailer",
            "Upgrade",
        ):
            assert name not in response.headers, name
        assert response["X-Public"] == "yes"
        assert response["ETag"] == '"v7"'

    def test_the_upstreams_cookies_server_and_request_id_stay_inside(self, gateway, upstream):
        upstream.get(
            ENTRY,
            json={"id": 17},
            headers={"Set-Cookie": "internal=1", "Server": "gunicorn", "X-Request-ID": "inner"},
        )

        response = gateway.get("/faq/v2/faqs/17", headers={"X-Request-ID": "outer"})

        assert "Set-Cookie" not in response.headers
        assert response.headers.get("Server") != "gunicorn"
        assert response["X-Request-ID"] == "outer"

    def test_status_body_and_content_type_come_back_unchanged(self, gateway, upstream):
        problem = {"type": "about:blank", "title": "Not Found", "status": 404}
        upstream.get(ENTRY, json=problem, status=404, content_type="application/problem+json")

        response = gateway.get("/faq/v2/faqs/17")

        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"
        assert json.loads(response.body) == problem

    def test_gzip_bodies_pass_through_byte_for_byte(self, gateway, upstream):
        compressed = gzip.compress(json.dumps({"items": ["x" * 100] * 50}).encode(), mtime=0)
        upstream.get(
            ENTRY,
            body=compressed,
            content_type="application/json",
            headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"},
        )

        response = gateway.get("/faq/v2/faqs/17", headers={"Accept-Encoding": "gzip"})

        assert response["Content-Encoding"] == "gzip"
        assert response.body == compressed

    def test_redirects_are_handed_to_the_client_not_followed(self, gateway, upstream):
        upstream.get(ENTRY, status=301, headers={"Location": "/v2/faqs/18"})

        response = gateway.get("/faq/v2/faqs/17")

        assert response.status_code == 301
        assert response["Location"] == "/v2/faqs/18"
        assert len(upstream.calls) == 1


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_body_method_and_content_type_are_forwarded(gateway, upstream, method):
    upstream.add(method, ENTRY, status=200, json={"done": True})
    payload = b'{"question": "Why?", "emoji": "\xf0\x9f\x9a\x82"}'

    response = gateway.call(
        method, "/faq/v2/faqs/17", payload, content_type="application/json; charset=utf-8"
    )

    assert response.status_code == 200
    [call] = upstream.calls
    assert call.request.method == method
    assert call.request.body == payload
    assert call.request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert call.request.headers["Content-Length"] == str(len(payload))


@pytest.mark.parametrize(
    ("content_type", "payload"),
    [
        ("application/x-www-form-urlencoded", b"question=Why%3F&tags=a&tags=b"),
        (
            "multipart/form-data; boundary=XyZ",
            b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n'
            b"Content-Type: application/octet-stream\r\n\r\n\x00\xff\x10\r\n--XyZ--\r\n",
        ),
        ("application/octet-stream", bytes(range(256))),
    ],
)
def test_non_json_bodies_travel_byte_for_byte(gateway, upstream, content_type, payload):
    # Nothing on the way may parse (and so consume or re-encode) the body.
    upstream.post(f"{UPSTREAM}/v2/faqs", status=201)

    gateway.post("/faq/v2/faqs", payload, content_type=content_type)

    [call] = upstream.calls
    assert call.request.body == payload
    assert call.request.headers["Content-Type"] == content_type


def test_a_call_without_a_body_sends_none(gateway, upstream):
    upstream.delete(ENTRY, status=204)

    response = gateway.delete("/faq/v2/faqs/17")

    assert response.status_code == 204
    assert not upstream.calls[0].request.body


class TestUpstreamFailures:
    @pytest.mark.parametrize(
        ("error", "status", "detail"),
        [
            (refused, 502, "refused the connection."),
            (reset, 502, "dropped the connection."),
            (read_timeout, 504, "did not answer in time."),
            (connect_timeout, 504, "did not accept the connection in time."),
        ],
    )
    def test_failures_become_gateway_problems(
        self, gateway, upstream, settings, error, status, detail
    ):
        settings.GATEWAY_RETRIES = 0
        upstream.get(ENTRY, body=error())

        response = gateway.get("/faq/v2/faqs/17")

        body = assert_problem(response, status)
        assert body["detail"] == f"faq {detail}"
        assert "Traceback" not in body["detail"]

    @pytest.mark.parametrize(
        ("error", "status", "detail"),
        [
            (
                lambda: aiohttp.ClientPayloadError("Response payload is not completed"),
                502,
                "dropped the connection.",
            ),
            (read_timeout, 504, "did not answer in time."),
        ],
    )
    def test_a_body_that_breaks_off_before_it_is_complete_is_a_problem_not_a_500(
        self, gateway, upstream, monkeypatch, error, status, detail
    ):
        # Small enough to be read whole before anything goes to the caller.
        upstream.get(ENTRY, body=b'{"id": 17}', headers={"Content-Length": "10"})

        async def broken(response):
            raise error()

        monkeypatch.setattr(FakeResponse, "read", broken)

        response = gateway.get("/faq/v2/faqs/17")

        assert assert_problem(response, status)["detail"] == f"faq {detail}"
        [sent] = upstream.responses
        assert sent.closed and sent.released, "a half-read connection went back to the pool"

    def test_idempotent_calls_are_retried_after_connection_errors(
        self, gateway, upstream, settings
    ):
        for _ in range(settings.GATEWAY_RETRIES):
            upstream.get(ENTRY, body=reset())
        upstream.get(ENTRY, json={"id": 17})

        response = gateway.get("/faq/v2/faqs/17")

        assert response.status_code == 200
        assert json.loads(response.body) == {"id": 17}
        assert len(upstream.calls) == 1 + settings.GATEWAY_RETRIES

    @pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
    def test_retries_stop_after_the_configured_number(self, gateway, upstream, settings, method):
        settings.GATEWAY_RETRIES = 2
        upstream.add(method, ENTRY, body=refused())

        response = gateway.call(method, "/faq/v2/faqs/17")

        assert_problem(response, 502)
        assert len(upstream.calls) == 3

    @pytest.mark.parametrize("method", ["POST", "PATCH"])
    def test_calls_that_may_not_be_repeated_are_tried_once(self, gateway, upstream, method):
        upstream.add(method, ENTRY, body=reset())
        upstream.add(method, ENTRY, json={"created": True})

        response = gateway.call(method, "/faq/v2/faqs/17", {"question": "Twice?"})

        assert_problem(response, 502)
        assert len(upstream.calls) == 1

    def test_timeouts_are_not_retried(self, gateway, upstream):
        # The upstream may be working on it: asking again would double the load it chokes on.
        upstream.get(ENTRY, body=read_timeout())
        upstream.get(ENTRY, json={"id": 17})

        assert_problem(gateway.get("/faq/v2/faqs/17"), 504)
        assert len(upstream.calls) == 1

    def test_the_configured_timeouts_are_used(self, gateway, upstream, settings):
        settings.GATEWAY_CONNECT_TIMEOUT, settings.GATEWAY_READ_TIMEOUT = 1.5, 7.0
        upstream.get(ENTRY, json={"id": 17})

        gateway.get("/faq/v2/faqs/17")

        timeout = upstream.calls[0].request.timeout
        assert (timeout.sock_connect, timeout.sock_read) == (1.5, 7.0)


def test_a_call_that_reaches_no_mock_proves_the_upstream_was_tried(gateway, upstream, settings):
    # Guards the other tests' "no call" checks: an unregistered URL is still recorded as a call.
    settings.GATEWAY_RETRIES = 0

    response = gateway.get("/faq/v2/unregistered")

    assert_problem(response, 502)
    assert [call.request.url for call in upstream.calls] == [f"{UPSTREAM}/v2/unregistered"]
