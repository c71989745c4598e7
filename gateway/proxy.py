"""Forwarding: the call's headers cleaned both ways, sent over a pooled keep-alive connection.

Hop-by-hop headers (RFC 9110 §7.6.1: ``Connection`` and every header it names, ``Keep-Alive``,
``TE``, ``Trailer``, ``Transfer-Encoding``, ``Upgrade``, ``Proxy-*``) never cross in either
direction. The caller's key never leaves the gateway: upstreams learn who called from the signed
consumer header instead. The upstream call is urllib3's, directly: one connection pool per
upstream, no retries or redirects of its own, nothing added to what the caller sent.
"""

from __future__ import annotations

import errno
import threading
import time

import urllib3
from django.conf import settings
from urllib3.exceptions import (
    ConnectTimeoutError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)
from urllib3.util import SKIP_HEADER

from gateway.routing import Route, base_path
from services.kit.gateway_trust import CONSUMER_HEADER, SIGNATURE_HEADER, sign

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
# Set by the gateway itself, never taken from the caller.
_OWN_REQUEST_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "authorization",
        "cookie",
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-forwarded-host",
        "x-forwarded-prefix",
        "x-request-id",
        CONSUMER_HEADER.lower(),
        SIGNATURE_HEADER.lower(),
    }
)
_OWN_RESPONSE_HEADERS = frozenset({"server", "date", "x-request-id", "set-cookie"})
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
CHUNK = 64 * 1024


class UpstreamError(Exception):
    """Why a call got no answer from its upstream. ``kind`` labels the metrics; the caller gets
    ``status`` and the message of its kind, never the exception's own text."""

    MESSAGES = {
        "refused": (502, "{service} refused the connection."),
        "reset": (502, "{service} dropped the connection."),
        "connect-timeout": (504, "{service} did not accept the connection in time."),
        "read-timeout": (504, "{service} did not answer in time."),
        "circuit-open": (503, "{service} is unavailable; the gateway will try it again shortly."),
        "bulkhead-full": (503, "{service} has too many calls in flight; retry shortly."),
    }

    def __init__(self, kind: str, retry_after: float | None = None):
        super().__init__(kind)
        self.kind = kind
        self.status = self.MESSAGES[kind][0]
        self.retry_after = retry_after

    def detail(self, service: str) -> str:
        return self.MESSAGES[self.kind][1].format(service=service)


def hop_by_hop(connection_header: str) -> frozenset[str]:
    if not connection_header:
        return HOP_BY_HOP
    named = {token.strip().lower() for token in connection_header.split(",") if token.strip()}
    return HOP_BY_HOP | named


_pools: dict[str, urllib3.HTTPConnectionPool] = {}
_pools_lock = threading.Lock()


def pool_for(upstream: str) -> urllib3.HTTPConnectionPool:
    """One keep-alive pool per upstream, shared by the worker's threads; never a proxy from the
    environment, never another host."""
    pool = _pools.get(upstream)
    if pool is None:
        with _pools_lock:
            pool = _pools.get(upstream)
            if pool is None:
                pool = _pools[upstream] = urllib3.connection_from_url(
                    upstream, maxsize=settings.GATEWAY_POOL_SIZE, block=False, retries=False
                )
    return pool


def outgoing_headers(call, route: Route, consumer: str) -> dict[str, str]:
    skip = hop_by_hop(call.header("Connection")) | _OWN_REQUEST_HEADERS
    headers = {name: value for name, value in call.headers() if name.lower() not in skip}
    # Nothing of urllib3's own: the upstream sees the caller's headers, or none.
    headers.setdefault("User-Agent", SKIP_HEADER)
    headers.setdefault("Accept-Encoding", SKIP_HEADER)
    earlier = call.header("X-Forwarded-For")
    headers["X-Forwarded-For"] = f"{earlier}, {call.client}" if earlier else call.client
    headers["X-Forwarded-Proto"] = call.scheme
    headers["X-Forwarded-Host"] = call.host
    headers["X-Forwarded-Prefix"] = f"/{route.service}"
    headers["X-Request-ID"] = call.request_id
    headers[CONSUMER_HEADER] = consumer
    if settings.GATEWAY_SECRET:
        headers[SIGNATURE_HEADER] = sign(
            settings.GATEWAY_SECRET, method=call.method, path=route.path, consumer=consumer
        )
    return headers


def response_headers(upstream: urllib3.BaseHTTPResponse) -> list[tuple[str, str]]:
    skip = hop_by_hop(upstream.headers.get("Connection", "")) | _OWN_RESPONSE_HEADERS
    return [(name, value) for name, value in upstream.headers.items() if name.lower() not in skip]


def forward(call, route: Route, consumer: str) -> urllib3.BaseHTTPResponse:
    """Send the call upstream; the response body is left unread (the caller reads or streams it).
    Connection failures of idempotent calls are tried again; timeouts never are."""
    url = route.request_target + (f"?{call.query}" if call.query else "")
    body = call.body if call.content_length else None
    headers = outgoing_headers(call, route, consumer)
    attempts = 1 + (settings.GATEWAY_RETRIES if call.method in IDEMPOTENT else 0)
    pool = pool_for(route.upstream)
    timeout = urllib3.Timeout(
        connect=settings.GATEWAY_CONNECT_TIMEOUT, read=settings.GATEWAY_READ_TIMEOUT
    )
    for attempt in range(attempts):
        try:
            return pool.urlopen(
                call.method,
                url,
                body=body,
                headers=headers,
                retries=False,
                redirect=False,
                assert_same_host=False,
                timeout=timeout,
                preload_content=False,
                decode_content=False,
            )
        except NewConnectionError as exc:
            kind = "refused" if _refused(exc) else "reset"
        except ConnectTimeoutError:
            raise UpstreamError("connect-timeout") from None
        except ReadTimeoutError:
            raise UpstreamError("read-timeout") from None
        except (ProtocolError, OSError):
            kind = "reset"
        if attempt + 1 < attempts:
            time.sleep(0.05 * 2**attempt)
    raise UpstreamError(kind)


def probe(upstream: str, path: str) -> int:
    """The status of a quick GET to the upstream (health checks); raises when it is down."""
    response = pool_for(upstream).urlopen(
        "GET",
        base_path(upstream) + path,
        headers={"User-Agent": SKIP_HEADER, "Accept-Encoding": SKIP_HEADER},
        retries=False,
        redirect=False,
        timeout=urllib3.Timeout(connect=0.5, read=1.5),
        preload_content=False,
    )
    read_all(response)
    return response.status


def _refused(exc: BaseException) -> bool:
    cause = exc.__cause__ or exc.__context__
    return isinstance(cause, ConnectionRefusedError) or getattr(cause, "errno", None) in (
        errno.ECONNREFUSED,
    )


def read_all(upstream: urllib3.BaseHTTPResponse) -> bytes:
    """The whole body, bytes untouched; the connection goes back to the pool."""
    try:
        return upstream.read(decode_content=False)
    except BaseException:
        upstream.close()  # never hand a connection with unread bytes to the next call
        raise
    finally:
        upstream.release_conn()


def stream(upstream: urllib3.BaseHTTPResponse):
    """The upstream body as it arrives, bytes untouched (gzip stays gzip)."""
    complete = False
    try:
        yield from upstream.stream(CHUNK, decode_content=False)
        complete = True
    finally:
        if not complete:
            upstream.close()  # the caller left, or the upstream broke off: drop the connection
        upstream.release_conn()
