"""gateway/response_cache.py: GET responses the upstream marks cacheable are answered from the
cache; shared ones for everyone, private ones only for the consumer they were made for."""

import gzip
import json

import pytest

from tests.gateway.conftest import UPSTREAM
from tests.helpers import assert_problem

pytestmark = pytest.mark.django_db

ENTRY = f"{UPSTREAM}/v2/faqs/17"
BODY = json.dumps({"id": 17, "question": "Why?"}).encode()


def serve(upstream, cache_control: str | None, *, body=BODY, status=200, **headers):
    if cache_control is not None:
        headers["Cache-Control"] = cache_control
    headers.setdefault("Content-Length", str(len(body)))
    upstream.get(ENTRY, body=body, status=status, content_type="application/json", headers=headers)


def test_a_public_response_is_a_miss_then_a_hit(gateway, upstream):
    serve(upstream, "public, max-age=60", ETag='"v7"')

    first = gateway.get("/faq/v2/faqs/17")
    second = gateway.get("/faq/v2/faqs/17")

    assert first["X-Cache"] == "MISS"
    assert "Age" not in first.headers
    assert second.status_code == 200
    assert second["X-Cache"] == "HIT"
    assert second["Age"].isdigit()
    assert second.body == first.body == BODY
    assert second["Content-Type"] == "application/json"
    assert second["ETag"] == '"v7"'
    assert second["Cache-Control"] == "public, max-age=60"
    assert len(upstream.calls) == 1


def test_a_hit_has_its_own_request_id(gateway, upstream):
    serve(upstream, "public, max-age=60")
    gateway.get("/faq/v2/faqs/17", headers={"X-Request-ID": "first"})

    second = gateway.get("/faq/v2/faqs/17", headers={"X-Request-ID": "second"})

    assert second["X-Cache"] == "HIT"
    assert second["X-Request-ID"] == "second"


def test_a_public_response_is_shared_between_consumers(gateway, make_consumer, upstream):
    serve(upstream, "max-age=60")
    _, bob = make_consumer("bob")
    gateway.get("/faq/v2/faqs/17")

    response = gateway.get("/faq/v2/faqs/17", key=bob)

    assert response["X-Cache"] == "HIT"
    assert len(upstream.calls) == 1


def test_a_private_response_is_kept_for_its_consumer_only(gateway, make_consumer, upstream):
    serve(upstream, "private, max-age=60")
    _, bob = make_consumer("bob")

    assert gateway.get("/faq/v2/faqs/17")["X-Cache"] == "MISS"
    assert gateway.get("/faq/v2/faqs/17")["X-Cache"] == "HIT"
    assert gateway.get("/faq/v2/faqs/17", key=bob)["X-Cache"] == "MISS"
    assert len(upstream.calls) == 2


def test_a_hit_still_needs_a_valid_key(gateway, anonymous, upstream):
    serve(upstream, "public, max-age=60")
    gateway.get("/faq/v2/faqs/17")

    assert_problem(anonymous.get("/faq/v2/faqs/17"), 401)


@pytest.mark.parametrize(
    "cache_control",
    [
        None,
        "no-store",
        "no-store, max-age=60",
        "no-cache, max-age=60",
        "public, max-age=0",
        "public",
        "max-age=soon",
        "private, s-maxage=60",
    ],
)
def test_responses_not_marked_cacheable_are_never_cached(gateway, upstream, cache_control):
    serve(upstream, cache_control)

    responses = [gateway.get("/faq/v2/faqs/17") for _ in range(2)]

    assert [response["X-Cache"] for response in responses] == ["MISS", "MISS"]
    assert len(upstream.calls) == 2


@pytest.mark.parametrize(
    ("status", "headers"),
    [
        (404, {}),
        (200, {"Set-Cookie": "session=1"}),
        (200, {"Vary": "*"}),
    ],
)
def test_errors_cookies_and_vary_star_are_never_cached(gateway, upstream, status, headers):
    serve(upstream, "public, max-age=60", status=status, **headers)

    for _ in range(2):
        gateway.get("/faq/v2/faqs/17")

    assert len(upstream.calls) == 2


def test_a_body_over_the_size_limit_is_not_cached(gateway, upstream, settings):
    settings.GATEWAY_CACHE_MAX_BODY_BYTES = len(BODY) - 1
    serve(upstream, "public, max-age=60")

    for _ in range(2):
        assert gateway.get("/faq/v2/faqs/17").body == BODY

    assert len(upstream.calls) == 2


def test_a_body_of_unknown_length_is_streamed_not_cached(gateway, upstream):
    # Without a length the gateway cannot know it fits before reading it all into memory.
    upstream.get(ENTRY, body=BODY, headers={"Cache-Control": "public, max-age=60"})

    for _ in range(2):
        assert gateway.get("/faq/v2/faqs/17").body == BODY

    assert len(upstream.calls) == 2


def test_post_is_never_cached(gateway, upstream):
    upstream.post(
        f"{UPSTREAM}/v2/faqs",
        status=200,
        body=BODY,
        headers={"Cache-Control": "public, max-age=60", "Content-Length": str(len(BODY))},
    )

    responses = [gateway.post("/faq/v2/faqs", {"question": "Why?"}) for _ in range(2)]

    assert all("X-Cache" not in response.headers for response in responses)
    assert len(upstream.calls) == 2


def test_a_cached_get_does_not_answer_other_methods(gateway, upstream):
    serve(upstream, "public, max-age=60")
    upstream.delete(ENTRY, status=204)
    gateway.get("/faq/v2/faqs/17")

    response = gateway.delete("/faq/v2/faqs/17")

    assert response.status_code == 204
    assert len(upstream.calls) == 2


@pytest.mark.parametrize(
    "change",
    [
        {"path": "/faq/v2/faqs/17?fields=id"},
        {"headers": {"Accept": "application/xml"}},
        {"headers": {"Accept-Language": "de"}},
        {"headers": {"Accept-Encoding": "gzip"}},
    ],
)
def test_the_query_and_the_negotiated_headers_are_part_of_the_key(gateway, upstream, change):
    serve(upstream, "public, max-age=60")
    gateway.get("/faq/v2/faqs/17")

    response = gateway.get(change.get("path", "/faq/v2/faqs/17"), headers=change.get("headers"))

    assert response["X-Cache"] == "MISS"
    assert len(upstream.calls) == 2


def test_versions_are_cached_apart(gateway, upstream):
    serve(upstream, "public, max-age=60")
    upstream.get(
        f"{UPSTREAM}/v1/faqs/17",
        body=b'{"v": 1}',
        headers={"Cache-Control": "public, max-age=60", "Content-Length": "8"},
    )
    gateway.get("/faq/v2/faqs/17")

    response = gateway.get("/faq/v1/faqs/17")

    assert response["X-Cache"] == "MISS"
    assert response.body == b'{"v": 1}'


def test_a_gzip_body_is_cached_and_served_byte_for_byte(gateway, upstream):
    compressed = gzip.compress(BODY * 20, mtime=0)
    serve(upstream, "public, max-age=60", body=compressed, **{"Content-Encoding": "gzip"})
    headers = {"Accept-Encoding": "gzip"}

    first = gateway.get("/faq/v2/faqs/17", headers=headers)
    second = gateway.get("/faq/v2/faqs/17", headers=headers)

    assert second["X-Cache"] == "HIT"
    assert first.body == second.body == compressed
    assert second["Content-Encoding"] == "gzip"


def test_a_deprecated_versions_hit_still_announces_it(gateway, upstream):
    upstream.get(
        f"{UPSTREAM}/v1/faqs/17",
        body=b'{"v": 1}',
        headers={"Cache-Control": "public, max-age=60", "Content-Length": "8"},
    )
    gateway.get("/faq/v1/faqs/17")

    response = gateway.get("/faq/v1/faqs/17")

    assert response["X-Cache"] == "HIT"
    assert response["Deprecation"].startswith("@")
    assert "successor-version" in response["Link"]


def test_a_response_that_varies_on_another_header_is_not_served_to_a_different_value(
    gateway, upstream
):
    upstream.get(
        ENTRY,
        body=b'{"tenant": "a"}',
        headers={
            "Cache-Control": "public, max-age=60",
            "Vary": "X-Tenant",
            "Content-Length": "15",
        },
    )
    upstream.get(ENTRY, body=b'{"tenant": "b"}', headers={"Content-Length": "15"})
    gateway.get("/faq/v2/faqs/17", headers={"X-Tenant": "a"})

    response = gateway.get("/faq/v2/faqs/17", headers={"X-Tenant": "b"})

    assert response.body == b'{"tenant": "b"}'
    assert len(upstream.calls) == 2


def test_a_response_that_varies_by_consumer_is_not_shared(gateway, make_consumer, upstream):
    upstream.get(
        ENTRY,
        body=b'{"for": "alice"}',
        headers={
            "Cache-Control": "max-age=60",
            "Vary": "X-Switchyard-Consumer",
            "Content-Length": "16",
        },
    )
    upstream.get(ENTRY, body=b'{"for": "bob"}', headers={"Content-Length": "14"})
    _, bob = make_consumer("bob")
    gateway.get("/faq/v2/faqs/17")

    response = gateway.get("/faq/v2/faqs/17", key=bob)

    assert response.body == b'{"for": "bob"}'
    assert len(upstream.calls) == 2
