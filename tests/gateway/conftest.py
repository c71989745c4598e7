"""Shared fixtures for the gateway: a mocked upstream, consumers with keys, and a clean slate.

The gateway keeps state at module level (circuit breakers, pooled sessions, the usage recorder,
the rate limiter, cached lifecycles) and in the cache (keys, rate-limit windows, responses). Every
test starts from nothing, so no test can pass or fail because of another one.
"""

from __future__ import annotations

import json

import pytest
import responses
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.test import Client

import contracts.lifecycle
from contracts.lifecycle import DEFAULT_PATH as DEFAULT_LIFECYCLE
from gateway import auth, breaker, proxy, usage, views

UPSTREAM = "http://faq.internal"


def clear_cache() -> None:
    """Empty the cache. On Redis only this run's keys go: ``cache.clear()`` is FLUSHDB there,
    which would also wipe whatever else shares the Redis database."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        client = backend._cache.get_client(None, write=True)
        keys = list(client.scan_iter(match=backend.make_key("*"), count=1000))
        if keys:
            client.delete(*keys)
    else:
        backend.clear()


@pytest.fixture(autouse=True)
def _clean_gateway(settings):
    # The defaults, whatever the environment running the tests says.
    settings.GATEWAY_SECRET = ""
    settings.GATEWAY_VALIDATE = []
    settings.GATEWAY_RETRIES = 2
    settings.GATEWAY_BREAKER_FAILURES = 3
    settings.GATEWAY_BREAKER_RESET_SECONDS = 10
    settings.GATEWAY_RATE_LIMIT_PER_MINUTE = 600
    settings.GATEWAY_RATE_LIMITER = "gateway.ratelimit.CacheRateLimiter"
    settings.GATEWAY_LIFECYCLE_FILE = str(DEFAULT_LIFECYCLE)
    settings.GATEWAY_CACHE_MAX_BODY_BYTES = 256 * 1024
    breaker.reset_all()
    proxy._sessions.clear()
    views._rate_limiter = None
    # Flushed only when a test says so: nothing is written behind its back by a thread.
    usage._recorder = usage.UsageRecorder(usage.DatabaseUsageStore(), interval=0)
    contracts.lifecycle.load.cache_clear()
    clear_cache()
    yield
    breaker.reset_all()
    proxy._sessions.clear()
    views._rate_limiter = None
    usage._recorder = None
    contracts.lifecycle.load.cache_clear()
    clear_cache()


@pytest.fixture
def routed(settings):
    """The gateway routes the FAQ service to UPSTREAM."""
    settings.GATEWAY_UPSTREAMS = {"faq": UPSTREAM}


@pytest.fixture
def upstream(routed):
    """The FAQ service behind the gateway, as ``responses`` plays it; ``.calls`` is what reached
    it. A call to anything not registered also lands in ``.calls`` (and fails)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def recorder():
    return usage._recorder


@pytest.fixture
def make_consumer(db):
    def make(name: str = "alice", **fields):
        consumer, key = auth.consumer_create(
            name=name, owner="Team " + name, contact=f"{name}@example.com"
        )
        if fields:
            for field, value in fields.items():
                setattr(consumer, field, value)
            consumer.save(update_fields=list(fields))
        return consumer, key

    return make


@pytest.fixture
def alice(make_consumer):
    return make_consumer("alice")


@pytest.fixture
def key(alice):
    return alice[1]


class Gateway:
    """Calls through the gateway as a consumer would. Responses get ``body``: the bytes the
    client received, whether the gateway streamed them or not."""

    def __init__(self, key: str | None):
        self.client = Client()
        self.key = key

    def call(self, method, path, body=None, *, key=None, content_type=None, headers=None, **meta):
        headers = dict(headers or {})
        key = self.key if key is None else key
        if key:
            headers.setdefault("Authorization", f"Bearer {key}")
        if isinstance(body, dict | list):
            body = json.dumps(body).encode()
            content_type = content_type or "application/json"
        response = self.client.generic(
            method,
            path,
            body or b"",
            content_type=content_type or "application/octet-stream",
            headers=headers,
            **meta,
        )
        if response.streaming:
            response.body = b"".join(response.streaming_content)
        else:
            response.body = response.content
        return response

    def get(self, path, **kwargs):
        return self.call("GET", path, **kwargs)

    def post(self, path, body=None, **kwargs):
        return self.call("POST", path, body, **kwargs)

    def put(self, path, body=None, **kwargs):
        return self.call("PUT", path, body, **kwargs)

    def patch(self, path, body=None, **kwargs):
        return self.call("PATCH", path, body, **kwargs)

    def delete(self, path, **kwargs):
        return self.call("DELETE", path, **kwargs)


@pytest.fixture
def gateway(key, upstream):
    """The gateway, called with alice's key unless a test passes ``key=``. Nothing it forwards
    leaves the process: ``upstream`` answers, or refuses what it does not know."""
    return Gateway(key)


@pytest.fixture
def anonymous(db, upstream):
    """The gateway, called without a key."""
    return Gateway(None)
