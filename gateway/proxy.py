"""Forwarding: pooled keep-alive connections per upstream, streamed both ways' headers cleaned.

Hop-by-hop headers (RFC 9110 §7.6.1: ``Connection`` and every header it names, ``Keep-Alive``,
``TE``, ``Trailer``, ``Transfer-Encoding``, ``Upgrade``, ``Proxy-*``) never cross in either
direction. The caller's key never leaves the gateway: upstreams learn who called from the signed
consumer header instead.
"""

from __future__ import annotations

import threading
import time

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

from gateway.routing import Route
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
    def __init__(self, kind: str, status: int):
        super().__init__(kind)
        self.kind = kind
        self.status = status


def hop_by_hop(connection_header: str) -> set[str]:
    named = {token.strip().lower() for token in connection_header.split(",") if token.strip()}
    return HOP_BY_HOP | named


_sessions: dict[str, requests.Session] = {}
_sessions_lock = threading.Lock()


def session_for(upstream: str) -> requests.Session:
    with _sessions_lock:
        session = _sessions.get(upstream)
        if session is None:
            session = requests.Session()
            session.trust_env = False  # never a proxy from the environment: only the upstream
            session.headers.clear()  # forward the caller's headers, not requests' defaults
            adapter = HTTPAdapter(
                pool_connections=1, pool_maxsize=settings.GATEWAY_POOL_SIZE, max_retries=0
            )
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            _sessions[upstream] = session
        return session


def outgoing_headers(request, route: Route, consumer: str) -> dict[str, str]:
    skip = hop_by_hop(request.headers.get("Connection", "")) | _OWN_REQUEST_HEADERS
    headers = {name: value for name, value in request.headers.items() if name.lower() not in skip}
    client = request.META.get("REMOTE_ADDR", "")
    earlier = request.headers.get("X-Forwarded-For", "")
    headers["X-Forwarded-For"] = f"{earlier}, {client}" if earlier else client
    headers["X-Forwarded-Proto"] = request.scheme
    headers["X-Forwarded-Host"] = request.get_host()
    headers["X-Forwarded-Prefix"] = f"/{route.service}"
    headers["X-Request-ID"] = request.request_id
    headers[CONSUMER_HEADER] = consumer
    if settings.GATEWAY_SECRET:
        headers[SIGNATURE_HEADER] = sign(
            settings.GATEWAY_SECRET, method=request.method, path=route.path, consumer=consumer
        )
    return headers


def response_headers(upstream: requests.Response) -> list[tuple[str, str]]:
    skip = hop_by_hop(upstream.headers.get("Connection", "")) | _OWN_RESPONSE_HEADERS
    return [(name, value) for name, value in upstream.headers.items() if name.lower() not in skip]


def forward(request, route: Route, consumer: str) -> requests.Response:
    """Send the call upstream; the response body is left unread (streamed by the caller)."""
    query = request.META.get("QUERY_STRING", "")
    url = route.url + (f"?{query}" if query else "")
    body = request.body if request.META.get("CONTENT_LENGTH") not in (None, "", "0") else None
    headers = outgoing_headers(request, route, consumer)
    attempts = 1 + (settings.GATEWAY_RETRIES if request.method in IDEMPOTENT else 0)
    session = session_for(route.upstream)
    for attempt in range(attempts):
        try:
            return session.request(
                request.method,
                url,
                headers=headers,
                data=body,
                stream=True,
                allow_redirects=False,
                timeout=(settings.GATEWAY_CONNECT_TIMEOUT, settings.GATEWAY_READ_TIMEOUT),
            )
        except requests.ConnectTimeout:
            raise UpstreamError("connect-timeout", 504) from None
        except requests.ReadTimeout:
            raise UpstreamError("read-timeout", 504) from None
        except requests.ConnectionError as exc:
            if attempt + 1 < attempts:
                time.sleep(0.05 * 2**attempt)
                continue
            kind = "refused" if "refused" in str(exc).lower() else "reset"
            raise UpstreamError(kind, 502) from None
    raise AssertionError("unreachable")


def stream(upstream: requests.Response):
    """The upstream body as it arrives, bytes untouched (gzip stays gzip)."""
    try:
        yield from upstream.raw.stream(CHUNK, decode_content=False)
    finally:
        upstream.close()
