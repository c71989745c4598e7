"""Shared fixtures for the gateway: a mocked upstream, consumers with keys, and a clean slate.

The gateway keeps state at module level (circuit breakers, bulkheads, connection pools, the usage
recorder, the rate limiter, cached lifecycles, keys held by the worker) and in the cache (keys,
rate-limit windows, responses). Every test starts from nothing, so no test can pass or fail
because of another one.

Proxied calls are driven through the gateway's real WSGI application (its front door), and its
upstream calls end in :class:`FakeUpstream`, which plays the upstream at urllib3's connection
pool: everything the gateway does up to the socket runs for real.
"""

from __future__ import annotations

import errno
import io
import json
import re
from dataclasses import dataclass, field

import pytest
import urllib3
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.http import HttpResponse
from django.test import Client, RequestFactory
from urllib3.exceptions import (
    ConnectTimeoutError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)
from urllib3.util import SKIP_HEADER

import contracts.lifecycle
from contracts.lifecycle import DEFAULT_PATH as DEFAULT_LIFECYCLE
from gateway import auth, breaker, bulkhead, pipeline, proxy, response_cache, usage
from gateway.edge import PROXIED, GatewayApplication

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


def _forget_everything() -> None:
    breaker.reset_all()
    bulkhead.reset_all()
    proxy._pools.clear()
    pipeline._rate_limiter = None
    auth.forget_all()
    response_cache.forget_seen()
    contracts.lifecycle.load.cache_clear()
    clear_cache()


@pytest.fixture(autouse=True)
def _clean_gateway(settings):
    # The defaults, whatever the environment running the tests says.
    settings.GATEWAY_SECRET = ""
    settings.GATEWAY_VALIDATE = []
    settings.GATEWAY_RETRIES = 2
    settings.GATEWAY_BREAKER_FAILURES = 3
    settings.GATEWAY_BREAKER_RESET_SECONDS = 10
    settings.GATEWAY_UPSTREAM_CONCURRENCY = 16
    settings.GATEWAY_RATE_LIMIT_PER_MINUTE = 600
    settings.GATEWAY_RATE_LIMITER = "gateway.ratelimit.CacheRateLimiter"
    settings.GATEWAY_LIFECYCLE_FILE = str(DEFAULT_LIFECYCLE)
    settings.GATEWAY_CACHE_MAX_BODY_BYTES = 256 * 1024
    _forget_everything()
    # Flushed only when a test says so: nothing is written behind its back by a thread.
    usage._recorder = usage.UsageRecorder(usage.DatabaseUsageStore(), interval=0)
    yield
    _forget_everything()
    usage._recorder = None


@pytest.fixture
def routed(settings):
    """The gateway routes the FAQ service to UPSTREAM."""
    settings.GATEWAY_UPSTREAMS = {"faq": UPSTREAM}


# --- the upstream, played at urllib3's connection pool ---------------------------------------


def refused() -> Exception:
    """What urllib3 raises when nothing listens on the upstream's port."""
    error = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] refused")
    error.__cause__ = ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")
    return error


def reset() -> Exception:
    """What urllib3 raises when the upstream drops the connection before it answers."""
    return ProtocolError("Connection aborted.", ConnectionResetError(104, "Connection reset"))


def read_timeout() -> Exception:
    return ReadTimeoutError(None, "/", "Read timed out.")


def connect_timeout() -> Exception:
    return ConnectTimeoutError(None, "Connection to faq.internal timed out.")


@dataclass
class SentRequest:
    method: str
    url: str
    headers: urllib3.HTTPHeaderDict
    body: bytes | None
    timeout: urllib3.Timeout


@dataclass
class Sent:
    request: SentRequest


@dataclass
class _Reply:
    method: str
    url: str
    status: int = 200
    body: bytes | Exception = b""
    headers: dict = field(default_factory=dict)


class FakeUpstream:
    """Answers the gateway's upstream calls as registered (``responses``' style: the replies
    for a method and URL are used in turn, the last one again and again). ``calls`` is every
    request that reached it; one to anything not registered fails as a reset connection."""

    def __init__(self):
        self.calls: list[Sent] = []
        self._replies: list[_Reply] = []

    def add(self, method, url, *, status=200, json=None, body=b"", headers=None, content_type=None):
        headers = dict(headers or {})
        if json is not None:
            body = _json.dumps(json).encode()
            content_type = content_type or "application/json"
        if isinstance(body, str):
            body = body.encode()
        if content_type and not isinstance(body, Exception):
            headers.setdefault("Content-Type", content_type)
        self._replies.append(_Reply(method.upper(), url, status, body, headers))

    def replace(self, method, url, **kwargs):
        """The replies for this method and URL are now this one."""
        self._replies = [r for r in self._replies if (r.method, r.url) != (method.upper(), url)]
        self.add(method, url, **kwargs)

    def get(self, url, **kwargs):
        self.add("GET", url, **kwargs)

    def post(self, url, **kwargs):
        self.add("POST", url, **kwargs)

    def put(self, url, **kwargs):
        self.add("PUT", url, **kwargs)

    def patch(self, url, **kwargs):
        self.add("PATCH", url, **kwargs)

    def delete(self, url, **kwargs):
        self.add("DELETE", url, **kwargs)

    def urlopen(self, pool, method, url, body=None, headers=None, **options):
        base = f"{pool.scheme}://{pool.host}"
        if pool.port and pool.port != {"http": 80, "https": 443}[pool.scheme]:
            base += f":{pool.port}"
        sent_headers = urllib3.HTTPHeaderDict(
            {name: value for name, value in (headers or {}).items() if value != SKIP_HEADER}
        )
        if body is not None:
            sent_headers["Content-Length"] = str(len(body))
        full = base + url
        self.calls.append(Sent(SentRequest(method, full, sent_headers, body, options["timeout"])))
        reply = self._reply_for(method, full)
        if reply is None:
            raise reset()
        if isinstance(reply.body, Exception):
            raise reply.body
        return urllib3.HTTPResponse(
            body=io.BytesIO(reply.body),
            headers=reply.headers,
            status=reply.status,
            preload_content=False,
            decode_content=False,
        )

    def _reply_for(self, method: str, url: str) -> _Reply | None:
        path_only = url.split("?", 1)[0]
        matching = [
            reply
            for reply in self._replies
            if reply.method == method
            and (
                reply.url.match(url) is not None
                if isinstance(reply.url, re.Pattern)
                else reply.url in (url, path_only)
            )
        ]
        if not matching:
            return None
        if len(matching) > 1:
            self._replies.remove(matching[0])
        return matching[0]


_json = json


@pytest.fixture
def upstream(routed, monkeypatch):
    """The FAQ service behind the gateway; ``.calls`` is what reached it."""
    fake = FakeUpstream()

    def urlopen(pool, method, url, body=None, headers=None, **options):
        return fake.urlopen(pool, method, url, body, headers, **options)

    monkeypatch.setattr(urllib3.HTTPConnectionPool, "urlopen", urlopen)
    return fake


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


class EnvironFactory(RequestFactory):
    """Django's request factory, stopped at the WSGI environ a server would pass (a WSGIRequest
    rewrites ``PATH_INFO`` in place)."""

    def request(self, **request):
        return self._base_environ(**request)


class Gateway:
    """Calls through the gateway's WSGI application as a consumer would. Responses are Django
    ``HttpResponse`` objects with ``body``: the bytes the client received."""

    def __init__(self, key: str | None):
        self.factory = EnvironFactory()
        self.application = GatewayApplication(self._not_proxied)
        self.client = Client()
        self.key = key

    @staticmethod
    def _not_proxied(environ, start_response):
        raise AssertionError(f"{environ['PATH_INFO']} is not a proxied path")

    def call(self, method, path, body=None, *, key=None, content_type=None, headers=None, **meta):
        headers = dict(headers or {})
        key = self.key if key is None else key
        if key:
            headers.setdefault("Authorization", f"Bearer {key}")
        if isinstance(body, dict | list):
            body = json.dumps(body).encode()
            content_type = content_type or "application/json"
        if not PROXIED.match(path.split("?", 1)[0]):
            response = self.client.generic(
                method,
                path,
                body or b"",
                content_type=content_type or "application/octet-stream",
                headers=headers,
                **meta,
            )
            response.body = response.content
            return response
        environ = self.factory.generic(
            method,
            path,
            body or b"",
            content_type=content_type or "application/octet-stream",
            headers=headers,
            **meta,
        )
        return run_wsgi(self.application, environ)

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


class Received(HttpResponse):
    def json(self):
        return json.loads(self.body)


def run_wsgi(application, environ) -> Received:
    """One request through a WSGI application, read back as a server would send it."""
    started = {}

    def start_response(status, headers, exc_info=None):
        started["status"], started["headers"] = status, headers

    iterable = application(environ, start_response)
    try:
        body = b"".join(iterable)
    finally:
        if hasattr(iterable, "close"):
            iterable.close()
    response = Received(body, status=int(started["status"].split(" ", 1)[0]))
    del response["Content-Type"]
    joined: dict[str, list[str]] = {}
    for name, value in started["headers"]:
        joined.setdefault(name, []).append(value)
    for name, values in joined.items():
        response[name] = ", ".join(values)
    response.body = body
    response.raw_headers = started["headers"]
    return response


@pytest.fixture
def gateway(key, upstream):
    """The gateway, called with alice's key unless a test passes ``key=``. Nothing it forwards
    leaves the process: ``upstream`` answers, or refuses what it does not know."""
    return Gateway(key)


@pytest.fixture
def anonymous(db, upstream):
    """The gateway, called without a key."""
    return Gateway(None)
