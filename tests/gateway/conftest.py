"""Shared fixtures for the gateway: a mocked upstream, consumers with keys, and a clean slate.

The gateway keeps state at module level (circuit breakers, bulkheads, connection pools, the usage
recorder, the rate limiter, cached lifecycles, keys held by the worker) and in the cache (keys,
rate-limit windows, responses). Every test starts from nothing, so no test can pass or fail
because of another one.

Proxied calls are driven through the gateway's real ASGI application (its front door), and its
upstream calls end in :class:`FakeUpstream`, which plays the upstream at aiohttp's client
session: everything the gateway does up to the socket runs for real.
"""

from __future__ import annotations

import errno
import json
import re
from dataclasses import dataclass, field
from urllib.parse import unquote_to_bytes

import aiohttp
import pytest
from aiohttp.client_reqrep import ConnectionKey
from asgiref.sync import async_to_sync
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.http import HttpResponse
from django.test import Client
from multidict import CIMultiDict, CIMultiDictProxy

import contracts.lifecycle
from contracts.lifecycle import DEFAULT_PATH as DEFAULT_LIFECYCLE
from gateway import auth, breaker, bulkhead, pipeline, proxy, ratelimit, response_cache, usage
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
    proxy._sessions.clear()
    pipeline._rate_limiter = None
    ratelimit.forget_counts()
    auth.forget_all()  # held keys, the key-change view, and its poller thread
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
    settings.GATEWAY_AUTH_FAILURES_PER_MINUTE = 30
    settings.GATEWAY_TRUSTED_PROXY_HOPS = 0
    # No key-change poller thread: tests that need one call auth.poll() (or start it) themselves.
    settings.GATEWAY_KEY_POLL_SECONDS = 0
    # Plain HTTP, as on a laptop (bin/up); test_https.py turns production's HTTPS-only back on.
    settings.SECURE_SSL_REDIRECT = False
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


# --- the upstream, played at aiohttp's client session ----------------------------------------

_KEY = ConnectionKey("faq.internal", 80, False, True, None, None, None, None)


def refused() -> Exception:
    """What aiohttp raises when nothing listens on the upstream's port."""
    return aiohttp.ClientConnectorError(_KEY, ConnectionRefusedError(errno.ECONNREFUSED, "refused"))


def reset() -> Exception:
    """What aiohttp raises when the upstream drops the connection before it answers."""
    return aiohttp.ServerDisconnectedError()


def read_timeout() -> Exception:
    return aiohttp.SocketTimeoutError("Timeout on reading data from socket")


def connect_timeout() -> Exception:
    return aiohttp.ConnectionTimeoutError("Connection timeout to host http://faq.internal")


@dataclass
class SentRequest:
    method: str
    url: str
    headers: CIMultiDict
    body: bytes | None
    timeout: aiohttp.ClientTimeout


@dataclass
class Sent:
    request: SentRequest


@dataclass
class _Reply:
    method: str
    url: str | re.Pattern
    status: int = 200
    body: bytes | Exception = b""
    headers: dict = field(default_factory=dict)


class _Content:
    def __init__(self, body: bytes):
        self._body = body

    async def iter_chunked(self, size: int):
        for start in range(0, len(self._body), size):
            yield self._body[start : start + size]


class FakeResponse:
    """What the gateway reads of aiohttp's ``ClientResponse``."""

    def __init__(self, status: int, headers: dict, body: bytes):
        self.status = status
        self.raw_headers = tuple(
            (name.encode("latin-1"), str(value).encode("latin-1"))
            for name, value in headers.items()
        )
        self.headers = CIMultiDictProxy(CIMultiDict(headers))
        self.content = _Content(body)
        self._body = body
        self.released = self.closed = False

    async def read(self) -> bytes:
        return self._body

    def release(self) -> None:
        self.released = True

    def close(self) -> None:
        self.closed = True


class FakeUpstream:
    """Answers the gateway's upstream calls as registered (``responses``' style: the replies
    for a method and URL are used in turn, the last one again and again). ``calls`` is every
    request that reached it; one to anything not registered fails as a dropped connection."""

    def __init__(self):
        self.calls: list[Sent] = []
        self.responses: list[FakeResponse] = []
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

    async def request(self, session, method, url, *, headers=None, data=None, **options):
        assert session._skip_auto_headers, "aiohttp would add default headers of its own"
        sent_headers = CIMultiDict(headers or {})
        if data is not None:
            sent_headers["Content-Length"] = str(len(data))
        full = str(url)
        sent = SentRequest(method, full, sent_headers, data, options["timeout"])
        self.calls.append(Sent(sent))
        reply = self._reply_for(method, full)
        if reply is None:
            raise reset()
        if isinstance(reply.body, Exception):
            raise reply.body
        response = FakeResponse(reply.status, reply.headers, reply.body)
        self.responses.append(response)
        return response

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

    async def request(session, method, url, **kwargs):
        return await fake.request(session, method, url, **kwargs)

    monkeypatch.setattr(aiohttp.ClientSession, "_request", request)
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


class Gateway:
    """Calls through the gateway's ASGI application as a consumer would (its pages through
    Django's test client). Responses are Django ``HttpResponse`` objects with ``body``: the bytes
    the client received."""

    def __init__(self, key: str | None):
        self.application = GatewayApplication(self._not_proxied)
        self.client = Client()
        self.key = key

    @staticmethod
    async def _not_proxied(scope, receive, send):
        raise AssertionError(f"{scope['path']} is not a proxied path")

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
        if body or method in ("POST", "PUT", "PATCH"):
            headers.setdefault("Content-Type", content_type or "application/octet-stream")
        return run_asgi(
            self.application,
            method,
            path,
            headers,
            body or b"",
            scheme="https" if meta.pop("secure", False) else "http",
        )

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


def asgi_scope(method, target, headers=None, body: bytes = b"", *, scheme="http") -> dict:
    """The HTTP scope gunicorn's ASGI worker passes for this request (Host: testserver)."""
    path, _, query = target.partition("?")
    raw_headers = [(b"host", b"testserver")]
    raw_headers += [
        (name.lower().encode(), value.encode()) for name, value in (headers or {}).items()
    ]
    if body:
        raw_headers.append((b"content-length", str(len(body)).encode()))
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": scheme,
        "path": unquote_to_bytes(path).decode("utf-8", "replace"),
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": raw_headers,
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


def run_asgi(application, method, target, headers, body: bytes, *, scheme="http") -> Received:
    """One request through an ASGI application, as gunicorn would pass it, read back as a server
    would send it."""
    scope = asgi_scope(method, target, headers, body, scheme=scheme)
    sent: list[dict] = []
    request = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive():
        return request.pop(0) if request else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    async def run():
        try:
            await application(scope, receive, send)
        finally:
            await proxy.close_sessions()

    async_to_sync(run)()
    [start] = [m for m in sent if m["type"] == "http.response.start"]
    content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert not sent[-1].get("more_body"), "the body never ended"
    response = Received(content, status=start["status"])
    del response["Content-Type"]
    joined: dict[str, list[str]] = {}
    for name, value in start["headers"]:
        joined.setdefault(name.decode("latin-1"), []).append(value.decode("latin-1"))
    for name, values in joined.items():
        response[name] = ", ".join(values)
    response.body = content
    response.raw_headers = start["headers"]
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
