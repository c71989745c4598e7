"""Forwarding: the call's headers cleaned both ways, sent over a pooled keep-alive connection.

Hop-by-hop headers (RFC 9110 §7.6.1: ``Connection`` and every header it names, ``Keep-Alive``,
``TE``, ``Trailer``, ``Transfer-Encoding``, ``Upgrade``, ``Proxy-*``) never cross in either
direction. The caller's key never leaves the gateway: upstreams learn who called from the signed
consumer header instead. The upstream call is aiohttp's client: one session (a keep-alive
connection pool) per upstream and worker, no retries, redirects, cookies, proxies from the
environment or default headers of its own; the path and query go exactly as the caller sent them.
"""

from __future__ import annotations

import asyncio
import errno
import weakref

import aiohttp
import urllib3
from urllib3.util import SKIP_HEADER
from yarl import URL

from gateway.conf import hot
from gateway.routing import Route, base_path
from services.kit.gateway_trust import CONSUMER_HEADER, SIGNATURE_HEADER, sign
from services.kit.pools import pooled

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


_sessions: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # loop: {upstream: session}
# What aiohttp would add on its own; the caller's own values of these still go.
_NO_DEFAULTS = ("Accept", "Accept-Encoding", "User-Agent", "Content-Type")


def session_for(upstream: str) -> aiohttp.ClientSession:
    """The upstream's session in this worker's event loop.

    Not :func:`services.kit.pools.pooled`: an event loop owns these sessions (one loop runs this,
    so no lock and no call more than a dict lookup on the hot path), a closed one is replaced,
    and they are closed with their loop."""
    loop = asyncio.get_running_loop()
    sessions = _sessions.get(loop)
    if sessions is None:
        sessions = _sessions[loop] = {}
    session = sessions.get(upstream)
    if session is None or session.closed:
        connector = aiohttp.TCPConnector(
            limit=0,  # the bulkhead bounds the calls in flight, per upstream
            # Below the upstream's own keep-alive (gunicorn's 5 s), so a connection is never
            # reused just as the upstream closes it.
            keepalive_timeout=4,
            enable_cleanup_closed=False,
        )
        session = sessions[upstream] = aiohttp.ClientSession(
            connector=connector,
            auto_decompress=False,
            skip_auto_headers=_NO_DEFAULTS,
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,
        )
    return session


async def close_sessions() -> None:
    """Close this loop's sessions (the worker's shutdown; tests after each call)."""
    sessions = _sessions.pop(asyncio.get_running_loop(), {})
    for session in sessions.values():
        await session.close()


def outgoing_headers(call, route: Route, consumer: str) -> dict[str, str]:
    skip = hop_by_hop(call.header("connection")) | _OWN_REQUEST_HEADERS
    headers = {name: value for name, value in call.headers() if name not in skip}
    earlier = call.header("x-forwarded-for")
    headers["X-Forwarded-For"] = f"{earlier}, {call.client}" if earlier else call.client
    headers["X-Forwarded-Proto"] = call.scheme
    headers["X-Forwarded-Host"] = call.host
    headers["X-Forwarded-Prefix"] = f"/{route.service}"
    headers["X-Request-ID"] = call.request_id
    headers[CONSUMER_HEADER] = consumer
    secret = hot().secret
    if secret:
        headers[SIGNATURE_HEADER] = sign(
            secret, method=call.method, path=route.path, consumer=consumer
        )
    return headers


def response_headers(upstream: aiohttp.ClientResponse) -> list[tuple[str, str]]:
    raw = upstream.raw_headers
    connection = upstream.headers.get("Connection", "")
    skip = hop_by_hop(connection) | _OWN_RESPONSE_HEADERS
    found = []
    for name, value in raw:
        decoded = name.decode("latin-1")
        if decoded.lower() not in skip:
            found.append((decoded, value.decode("latin-1")))
    return found


async def forward(call, route: Route, consumer: str) -> aiohttp.ClientResponse:
    """Send the call upstream; the response body is left unread (the caller reads or streams it,
    then releases it). Connection failures of idempotent calls are tried again; timeouts never
    are: the upstream may be working on it, and asking again would double the load it chokes on."""
    url = URL(route.url + (f"?{call.query}" if call.query else ""), encoded=True)
    body = call.body or None
    headers = outgoing_headers(call, route, consumer)
    conf = hot()
    attempts = 1 + (conf.retries if call.method in IDEMPOTENT else 0)
    session = session_for(route.upstream)
    timeout = aiohttp.ClientTimeout(
        total=None, sock_connect=conf.connect_timeout, sock_read=conf.read_timeout
    )
    kind = "reset"
    for attempt in range(attempts):
        try:
            return await session.request(
                call.method,
                url,
                headers=headers,
                data=body,
                allow_redirects=False,
                timeout=timeout,
                auto_decompress=False,
            )
        except aiohttp.ConnectionTimeoutError:
            raise UpstreamError("connect-timeout") from None
        except (TimeoutError, aiohttp.SocketTimeoutError):
            raise UpstreamError("read-timeout") from None
        except aiohttp.ClientConnectorError as exc:
            kind = "refused" if _refused(exc) else "reset"
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, OSError):
            kind = "reset"
        if attempt + 1 < attempts:
            await asyncio.sleep(0.05 * 2**attempt)
    raise UpstreamError(kind)


def _refused(exc: aiohttp.ClientConnectorError) -> bool:
    error = exc.os_error
    return isinstance(error, ConnectionRefusedError) or error.errno == errno.ECONNREFUSED


async def read_all(upstream: aiohttp.ClientResponse) -> bytes:
    """The whole body, bytes untouched; the connection goes back to the pool. An upstream that
    breaks off (or stalls) before the body is complete is an :class:`UpstreamError`: nothing has
    gone to the caller yet, and a short body must never pass for the whole one."""
    try:
        return await upstream.read()
    except (TimeoutError, aiohttp.SocketTimeoutError):
        upstream.close()
        raise UpstreamError("read-timeout") from None
    except (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError, OSError):
        upstream.close()
        raise UpstreamError("reset") from None
    except BaseException:
        upstream.close()  # never hand a connection with unread bytes to the next call
        raise
    finally:
        upstream.release()


async def stream(upstream: aiohttp.ClientResponse):
    """The upstream body as it arrives, bytes untouched (gzip stays gzip)."""
    complete = False
    try:
        async for chunk in upstream.content.iter_chunked(CHUNK):
            yield chunk
        complete = True
    finally:
        if not complete:
            upstream.close()  # the caller left, or the upstream broke off: drop the connection
        upstream.release()


_probe_pools: dict[str, urllib3.HTTPConnectionPool] = {}


def _probe_pool(upstream: str) -> urllib3.HTTPConnectionPool:
    return urllib3.connection_from_url(upstream, maxsize=2)


def probe(upstream: str, path: str) -> int:
    """The status of a quick GET to the upstream (health checks, from Django's own threads);
    raises when it is down."""
    pool = pooled(_probe_pools, upstream, _probe_pool)
    response = pool.urlopen(
        "GET",
        base_path(upstream) + path,
        headers={"User-Agent": SKIP_HEADER, "Accept-Encoding": SKIP_HEADER},
        retries=False,
        redirect=False,
        timeout=urllib3.Timeout(connect=0.5, read=1.5),
        preload_content=True,
    )
    return response.status
