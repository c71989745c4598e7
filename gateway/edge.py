"""The gateway's front door: proxied calls go straight to the pipeline, the rest to Django.

Every ``/{service}/{version}/...`` call runs :mod:`gateway.pipeline` on the WSGI environ itself:
no URL resolver, sessions, CSRF, messages or static files, which only the gateway's own pages
(docs, dashboard, usage, metrics) need and still get from Django. What the kit's middleware does
for every request is done here too, with the same code: the request id (accepted or minted, echoed,
one JSON log line), the request guard (host, chunked and oversized bodies), and a traceless 500.
"""

from __future__ import annotations

import json
import logging
import re
import time
from http import HTTPStatus
from urllib.parse import parse_qsl

from django.conf import settings
from django.core.handlers.wsgi import get_path_info
from django.http.request import split_domain_port, validate_host

from services.kit import problems
from services.kit.logging import request_id_var
from services.kit.middleware import REQUEST_ID_HEADER, guard_refusal, request_id_from

logger = logging.getLogger("switchyard.request")
error_logger = logging.getLogger("switchyard.errors")

# The same shape the URLconf used to route: /{service}/{version} and anything below it.
PROXIED = re.compile(
    r"^/(?P<service>[a-z][a-z0-9_-]{0,31})/(?P<version>v[0-9]{1,4})(?P<rest>/.*)?$"
)
_REASONS = {status.value: f"{status.value} {status.phrase}" for status in HTTPStatus}


class Call:
    """One call at the edge, as the pipeline's steps see it; each step adds what it learns."""

    __slots__ = (
        "_body",
        "consumer",
        "environ",
        "failure",
        "lifecycle_headers",
        "method",
        "name",
        "path",
        "request_id",
        "rest",
        "route",
        "service",
        "started",
        "version",
    )

    def __init__(self, environ: dict, matched: re.Match, path: str):
        self.environ = environ
        self.method = environ["REQUEST_METHOD"].upper()
        self.path = path
        self.service, self.version, self.rest = matched.group("service", "version", "rest")
        self.request_id = request_id_from(environ)
        self.started = time.perf_counter()
        self.route = None
        self.consumer = None
        self.name = None  # the consumer's name once authenticated, for counts and logs
        self.lifecycle_headers: dict[str, str] = {}
        self.failure: str | None = None  # why the upstream could not answer, for metrics
        self._body: bytes | None = None

    def header(self, name: str, default: str = "") -> str:
        return self.environ.get("HTTP_" + name.upper().replace("-", "_"), default)

    def headers(self):
        """(name, value) of every request header, names as a client would write them."""
        for key, value in self.environ.items():
            if key.startswith("HTTP_"):
                yield key[5:].replace("_", "-").title(), value
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            value = self.environ.get(key)
            if value:
                yield key.replace("_", "-").title(), value

    @property
    def query(self) -> str:
        return self.environ.get("QUERY_STRING", "")

    def query_items(self) -> list[tuple[str, str]]:
        return parse_qsl(self.query, keep_blank_values=True)

    @property
    def raw_path(self) -> str:
        raw = self.environ.get("RAW_URI") or self.environ.get("REQUEST_URI") or self.path
        return raw.split("?", 1)[0]

    @property
    def content_length(self) -> int:
        # The request guard has already refused anything that is not a number.
        return int(self.environ.get("CONTENT_LENGTH") or 0)

    @property
    def content_type(self) -> str:
        return self.environ.get("CONTENT_TYPE", "")

    @property
    def body(self) -> bytes:
        if self._body is None:
            length = self.content_length
            self._body = self.environ["wsgi.input"].read(length) if length else b""
        return self._body

    @property
    def client(self) -> str:
        return self.environ.get("REMOTE_ADDR", "")

    @property
    def scheme(self) -> str:
        # As Django reads it: behind a trusted router the original scheme is in a header.
        header, secure = settings.SECURE_PROXY_SSL_HEADER or (None, None)
        forwarded = self.environ.get(header) if header else None
        if forwarded is not None:
            return "https" if forwarded.split(",", 1)[0].strip() == secure else "http"
        return self.environ.get("wsgi.url_scheme", "http")

    @property
    def host(self) -> str:
        return host_of(self.environ)


class Answer:
    """What goes back to the caller: status, headers and a body to iterate (and close)."""

    __slots__ = ("body", "close", "headers", "status")

    def __init__(self, status: int, headers: list[tuple[str, str]], body=(), close=None):
        self.status = status
        self.headers = headers
        self.body = body
        self.close = close

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
    return Answer(status, answer_headers, [body])


def host_of(environ: dict) -> str:
    """The host the caller named; ``""`` when ``ALLOWED_HOSTS`` does not allow it."""
    if settings.USE_X_FORWARDED_HOST and "HTTP_X_FORWARDED_HOST" in environ:
        host = environ["HTTP_X_FORWARDED_HOST"]
    elif "HTTP_HOST" in environ:
        host = environ["HTTP_HOST"]
    else:
        host = environ.get("SERVER_NAME", "")
        port = environ.get("SERVER_PORT", "")
        scheme_port = "443" if environ.get("wsgi.url_scheme") == "https" else "80"
        if port and port != scheme_port:
            host = f"{host}:{port}"
    return host if _allowed(host) else ""


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


class GatewayApplication:
    """The WSGI application of the gateway: the pipeline for proxied calls, Django for pages."""

    def __init__(self, django_app, handle=None):
        from gateway import pipeline

        self.django_app = django_app
        self.handle = handle or pipeline.handle

    def __call__(self, environ, start_response):
        path = get_path_info(environ)
        matched = PROXIED.match(path)
        if matched is None:
            return self.django_app(environ, start_response)
        call = Call(environ, matched, path)
        token = request_id_var.set(call.request_id)
        try:
            answer = self._answer(call)
        finally:
            request_id_var.reset(token)
        answer.headers.append((REQUEST_ID_HEADER, call.request_id))
        start_response(_REASONS.get(answer.status, str(answer.status)), answer.headers)
        return _Body(answer)

    def _answer(self, call: Call) -> Answer:
        try:
            refused = guard_refusal(call.environ, host_allowed=bool(call.host))
            if refused is not None:
                status, fields = refused
                answer = problem(status, **fields)
            else:
                answer = self.handle(call)
        except Exception:
            error_logger.exception(
                "unhandled exception", extra={"method": call.method, "path": call.path}
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
                "duration_ms": round((time.perf_counter() - call.started) * 1000, 2),
            },
        )
        return answer


class _Body:
    """The answer's body for the WSGI server, closing what the answer holds open when done."""

    __slots__ = ("answer",)

    def __init__(self, answer: Answer):
        self.answer = answer

    def __iter__(self):
        return iter(self.answer.body)

    def close(self):
        if self.answer.close is not None:
            self.answer.close()
