"""The gateway's front door, an ASGI application: proxied calls go straight to the pipeline, the
rest to Django.

Every ``/{service}/{version}/...`` call runs :mod:`gateway.pipeline` in the worker's event loop:
no URL resolver, sessions, CSRF, messages or static files, which only the gateway's own pages
(docs, dashboard, usage, metrics) need and still get from Django's ASGI handler. A call that waits
on a slow upstream holds no thread, so it cannot take another service's capacity. What the kit's
middleware does for every request is done here too, with the same code: the request id (accepted
or minted, echoed, one JSON log line), the request guard (host, chunked and oversized bodies), and
a traceless 500.
"""

from __future__ import annotations

import json
import logging
import re
import time
from urllib.parse import parse_qsl

from django.conf import settings
from django.http.request import split_domain_port, validate_host

from gateway.conf import hot
from services.kit import problems
from services.kit.logging import request_id_var
from services.kit.middleware import guard_refusal, request_id_from

logger = logging.getLogger("switchyard.request")
error_logger = logging.getLogger("switchyard.errors")

# The same shape the URLconf used to route: /{service}/{version} and anything below it.
PROXIED = re.compile(
    r"^/(?P<service>[a-z][a-z0-9_-]{0,31})/(?P<version>v[0-9]{1,4})(?P<rest>/.*)?$"
)
HTTPS_REQUIRED = problems.problem_type("https-required")


class Call:
    """One call at the edge, as the pipeline's steps see it; each step adds what it learns."""

    __slots__ = (
        "_headers",
        "body",
        "consumer",
        "failure",
        "lifecycle_headers",
        "method",
        "name",
        "path",
        "request_id",
        "rest",
        "route",
        "scope",
        "service",
        "started",
        "version",
    )

    def __init__(self, scope: dict, matched: re.Match):
        self.scope = scope
        self.method = scope["method"].upper()
        self.path = scope["path"]
        self.service, self.version, self.rest = matched.group("service", "version", "rest")
        self._headers: dict[str, str] = {}
        for name, value in scope["headers"]:
            key = name.decode("latin-1").lower()
            text = value.decode("latin-1")
            self._headers[key] = f"{self._headers[key]}, {text}" if key in self._headers else text
        self.request_id = request_id_from({"HTTP_X_REQUEST_ID": self.header("x-request-id")})
        self.started = time.perf_counter()
        self.body = b""
        self.route = None
        self.consumer = None
        self.name = None  # the consumer's name once authenticated, for counts and logs
        self.lifecycle_headers: dict[str, str] = {}
        self.failure: str | None = None  # why the upstream could not answer, for metrics

    def header(self, name: str, default: str = "") -> str:
        """A request header by its lower-case name (repeated fields joined with commas)."""
        return self._headers.get(name, default)

    def headers(self):
        """(lower-case name, value) of every request header."""
        return self._headers.items()

    @property
    def meta(self) -> dict[str, str]:
        """What the kit's request guard reads, named as Django's ``META`` names it."""
        return {
            "REQUEST_METHOD": self.method,
            "CONTENT_LENGTH": self.header("content-length"),
            "CONTENT_TYPE": self.content_type,
            "HTTP_TRANSFER_ENCODING": self.header("transfer-encoding"),
        }

    @property
    def query(self) -> str:
        return self.scope.get("query_string", b"").decode("latin-1")

    def query_items(self) -> list[tuple[str, str]]:
        return parse_qsl(self.query, keep_blank_values=True)

    @property
    def raw_path(self) -> str:
        raw = self.scope.get("raw_path") or b""
        return raw.decode("latin-1").split("?", 1)[0] if raw else self.path

    @property
    def content_length(self) -> int:
        # The request guard has already refused anything that is not a number.
        return int(self.header("content-length") or 0)

    @property
    def content_type(self) -> str:
        return self.header("content-type")

    @property
    def client(self) -> str:
        """The caller's address: the socket peer, or behind ``GATEWAY_TRUSTED_PROXY_HOPS`` routers
        that each append the address they saw to ``X-Forwarded-For`` (Heroku's router does), that
        many entries from its right. Entries further left are whatever the client sent, so more
        hops than there are routers let a client choose its address. With fewer entries than hops,
        or an implausible one, the peer."""
        client = self.scope.get("client")
        return client_address(self._headers.get("x-forwarded-for"), client[0] if client else "")

    @property
    def scheme(self) -> str:
        # As Django reads it: behind a trusted router the original scheme is in a header.
        header, secure = hot().proxy_ssl_header or (None, None)
        if header and header.startswith("HTTP_"):
            forwarded = self._headers.get(header[5:].lower().replace("_", "-"))
            if forwarded is not None:
                return "https" if forwarded.split(",", 1)[0].strip() == secure else "http"
        return self.scope.get("scheme", "http")

    @property
    def host(self) -> str:
        """The host the caller named; ``""`` when ``ALLOWED_HOSTS`` does not allow it."""
        if hot().use_x_forwarded_host and "x-forwarded-host" in self._headers:
            host = self._headers["x-forwarded-host"]
        elif "host" in self._headers:
            host = self._headers["host"]
        else:
            server = self.scope.get("server") or ("", None)
            host = f"{server[0]}:{server[1]}" if server[1] else server[0]
        return host if _allowed(host) else ""


class Answer:
    """What goes back to the caller: status, headers, and either the whole body or a stream of
    it (with what to release once it has gone out)."""

    __slots__ = ("body", "close", "headers", "status", "stream")

    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes = b""):
        self.status = status
        self.headers = headers
        self.body = body
        self.stream = None  # an async iterator of chunks, instead of body
        self.close = None  # a coroutine function, called once the answer has gone out

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None

    def set_header(self, name: str, value: str) -> None:
        lowered = name.lower()
        self.headers = [(k, v) for k, v in self.headers if k.lower() != lowered]
        self.headers.append((name, value))


def problem(status: int, headers: dict[str, str] | None = None, **fields) -> Answer:
    """An RFC 9457 problem made by the gateway itself (``problems.problem``'s fields)."""
    body = json.dumps(problems.problem(status, **fields)).encode()
    answer_headers = [("Content-Type", problems.CONTENT_TYPE), ("Content-Length", str(len(body)))]
    answer_headers += list((headers or {}).items())
    return Answer(status, answer_headers, body)


def https_required(call: Call) -> Answer:
    """A proxied call over plain HTTP when the gateway is HTTPS-only. Not the redirect pages get:
    the key has already crossed the network in the clear, a client that follows would send it
    again, and a 301 turns a POST into a GET. An error that says why gets the caller's URL fixed,
    as API providers do (Stripe's calls over plain HTTP fail; AWS API Gateway serves only HTTPS)."""
    return problem(
        403,
        type=HTTPS_REQUIRED,
        title="HTTPS required",
        detail=(
            f"Call https://{call.host}{call.raw_path}: this gateway takes API calls over HTTPS "
            "only. A key sent over plain HTTP may have been seen; rotate it."
        ),
    )


def client_address(forwarded: str | None, peer: str) -> str:
    """The caller's address as :attr:`Call.client` explains, from ``X-Forwarded-For`` and the
    socket peer (also for the pages, which see Django's ``META``)."""
    hops = hot().trusted_proxy_hops
    if hops > 0 and forwarded:
        entries = forwarded.split(",")
        if len(entries) >= hops:
            address = entries[-hops].strip()
            if address and len(address) <= 64 and " " not in address:
                return address
    return peer


def _allowed(host: str) -> bool:
    known = _HOSTS.get(host)
    if known is None:
        domain, _port = split_domain_port(host)
        allowed = list(settings.ALLOWED_HOSTS)
        if settings.DEBUG and not allowed:
            allowed = [".localhost", "127.0.0.1", "[::1]"]
        known = bool(domain) and validate_host(domain, allowed)
        if len(_HOSTS) < 1024:  # a few names are real; a flood of made-up ones is not kept
            _HOSTS[host] = known
    return known


_HOSTS: dict[str, bool] = {}


def forget_hosts() -> None:
    _HOSTS.clear()


class ClientGone(Exception):
    """The caller disconnected before its request body arrived."""


class GatewayApplication:
    """The gateway's ASGI application: the pipeline for proxied calls, Django for pages."""

    def __init__(self, django_app, handle=None):
        from gateway import pipeline

        self.django_app = django_app
        self.handle = handle or pipeline.handle

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            return await self._lifespan(receive, send)
        matched = PROXIED.match(scope["path"]) if scope["type"] == "http" else None
        if matched is None:
            return await self.django_app(scope, receive, send)
        call = Call(scope, matched)
        token = request_id_var.set(call.request_id)
        try:
            answer = await self._answer(call, receive)
            answer.headers.append(("X-Request-ID", call.request_id))
            if hot().hsts and call.scheme == "https":
                answer.set_header("Strict-Transport-Security", hot().hsts)
            await self._send(answer, send)
        except ClientGone:
            pass
        finally:
            request_id_var.reset(token)

    async def _answer(self, call: Call, receive) -> Answer:
        try:
            refused = guard_refusal(call.meta, host_allowed=bool(call.host))
            if refused is not None:
                status, fields = refused
                answer = problem(status, **fields)
            elif hot().https_only and call.scheme != "https":
                answer = https_required(call)
            else:
                if call.content_length:
                    call.body = await _read_body(receive)
                answer = await self.handle(call)
        except ClientGone:
            raise
        except Exception:
            error_logger.exception(
                "unhandled exception",
                extra={"method": call.method, "path": call.path, "request_id": call.request_id},
            )
            answer = problem(
                500, detail="The server failed to handle this request; it has been logged."
            )
        logger.info(
            "request",
            extra={
                "method": call.method,
                "path": call.path,
                "status": answer.status,
                "consumer": call.name,
                "request_id": call.request_id,
                "duration_ms": round((time.perf_counter() - call.started) * 1000, 2),
            },
        )
        return answer

    @staticmethod
    async def _send(answer: Answer, send) -> None:
        headers = [
            (name.encode("latin-1"), value.encode("latin-1")) for name, value in answer.headers
        ]
        try:
            await send({"type": "http.response.start", "status": answer.status, "headers": headers})
            if answer.stream is None:
                await send({"type": "http.response.body", "body": answer.body})
            else:
                async for chunk in answer.stream:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b""})
        finally:
            if answer.close is not None:
                await answer.close()

    @staticmethod
    async def _lifespan(receive, send) -> None:
        from gateway import proxy

        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await proxy.close_sessions()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _read_body(receive) -> bytes:
    """The whole request body (the guard has bounded its length already)."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)
