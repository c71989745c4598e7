"""RFC 9457 problems for the requests gunicorn's ASGI worker refuses before the app sees them.

A request line or header past gunicorn's limits (414, 431), a malformed or ambiguous framing
(400: both ``Content-Length`` and ``Transfer-Encoding``, two lengths, a bare LF ...) and an
unknown transfer coding (501) are answered by the worker's protocol itself, as ``text/plain``
quoting the parser's message (an HTML page in the services' sync and gthread workers).
:func:`install` (the gateway's ASGI worker) and :func:`install_sync` (the services' workers) make
those answers problems like every other error, with a fixed detail that quotes nothing of the
request.

It replaces ``ASGIProtocol._send_error_response``, a private method of gunicorn 27: when a
gunicorn release no longer has it, nothing is replaced and the plain-text answers stay.
"""

from __future__ import annotations

import json
import uuid
from http import HTTPStatus

DETAILS = {
    400: "The request could not be parsed (its framing or headers are malformed or ambiguous).",
    414: "The request line is too long.",
    431: "The request's header fields are too large or too many.",
    501: "The request's transfer coding is not supported.",
    500: "The server failed to handle this request.",
}


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem_bytes(status: int, extra_headers=()) -> bytes:
    """The whole answer: status line, headers and an ``application/problem+json`` body.

    It carries a fresh ``X-Request-ID`` (and ``request_id``) like every other answer: the
    served contracts promise the header on every answer, these refusals included."""
    reason = _reason(status)
    request_id = uuid.uuid4().hex
    body = json.dumps(
        {
            "type": "about:blank",
            "title": reason,
            "status": status,
            "detail": DETAILS.get(status, "The request was refused."),
            "request_id": request_id,
        }
    ).encode()
    extra = "".join(f"{name}: {value}\r\n" for name, value in extra_headers)
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Content-Type: application/problem+json\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"X-Request-ID: {request_id}\r\n"
        f"{extra}"
        "Connection: close\r\n"
        "\r\n"
    )
    return head.encode("latin-1") + body


def install() -> bool:
    """Answer the worker's own refusals as problems; whether it could."""
    try:
        from gunicorn.asgi.protocol import ASGIProtocol
    except ImportError:
        return False
    original = getattr(ASGIProtocol, "_send_error_response", None)
    if original is None or not hasattr(ASGIProtocol, "_safe_write"):
        return False
    if getattr(original, "switchyard_problem", False):
        return True

    def send_problem(self, status, message, extra_headers=()):
        self._safe_write(problem_bytes(status, extra_headers))

    send_problem.switchyard_problem = True
    ASGIProtocol._send_error_response = send_problem
    return True


def install_sync() -> bool:
    """The same for the services' sync and gthread workers, which answer their refusals through
    ``gunicorn.util.write_error`` as an HTML page; whether it could."""
    from gunicorn import util

    original = getattr(util, "write_error", None)
    if original is None:
        return False
    if getattr(original, "switchyard_problem", False):
        return True

    def write_problem(sock, status_int, reason, mesg):
        util.write_nonblock(sock, problem_bytes(int(status_int)))

    write_problem.switchyard_problem = True
    util.write_error = write_problem
    return True
