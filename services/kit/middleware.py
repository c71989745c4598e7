import logging
import re
import time
import uuid

from django.conf import settings
from django.core.exceptions import DisallowedHost, PermissionDenied, SuspiciousOperation
from django.http import Http404

from services.kit import errors as domain
from services.kit import problems
from services.kit.logging import request_id_var

logger = logging.getLogger("switchyard.request")
error_logger = logging.getLogger("switchyard.errors")

REQUEST_ID_HEADER = "X-Request-ID"
# Accept a caller's id only when it is safe to log and echo; anything else gets a fresh one.
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:@+=-]{1,128}$")


def request_id_from(meta: dict) -> str:
    supplied = meta.get("HTTP_X_REQUEST_ID", "")
    return supplied if _VALID_REQUEST_ID.match(supplied) else uuid.uuid4().hex


class RequestIdMiddleware:
    """Accept or mint ``X-Request-ID``, echo it, and write one JSON log line per request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = request_id_from(request.META)
        token = request_id_var.set(request.request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request.request_id
            logger.info(
                "request",
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
            return response
        finally:
            request_id_var.reset(token)


class RequestGuardMiddleware:
    """Judge a request from its headers before anything reads it.

    A ``Host`` outside ``ALLOWED_HOSTS`` is 400 (Django checks it only when it builds a link).
    A chunked body is 411: WSGI apps see only ``Content-Length`` bytes, so it would read as empty.
    Over ``MAX_REQUEST_BODY_BYTES`` is 413. A JSON content type with no body at all is 400: DRF
    never calls its parser for an empty body, so a ``PATCH`` would otherwise succeed on nothing.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            request.get_host()
            host_allowed = True
        except DisallowedHost:
            host_allowed = False
        refused = guard_refusal(request.META, host_allowed=host_allowed)
        if refused is not None:
            status, fields = refused
            return problems.problem_response(status, **fields)
        return self.get_response(request)


def guard_refusal(meta, *, host_allowed: bool) -> tuple[int, dict] | None:
    """(status, problem fields) when a request must be refused on its headers alone, else ``None``.

    Shared by :class:`RequestGuardMiddleware` and the gateway's edge, which runs without Django's
    request objects.
    """
    if not host_allowed:
        return 400, {"detail": "This host name is not served here."}
    if "chunked" in meta.get("HTTP_TRANSFER_ENCODING", "").lower():
        return 411, {"detail": "Send the body with a Content-Length; chunked bodies are not read."}
    raw = meta.get("CONTENT_LENGTH") or "0"
    try:
        length = int(raw)
    except ValueError:
        return 400, {"detail": "Content-Length is not a number."}
    if length < 0:
        return 400, {"detail": "Content-Length is not a number."}
    limit = settings.MAX_REQUEST_BODY_BYTES
    if length > limit:
        return 413, {
            "type": problems.BODY_TOO_LARGE,
            "detail": f"The body is {length} bytes; the limit is {limit} bytes.",
            "limit": limit,
        }
    method = (meta.get("REQUEST_METHOD") or "").upper()
    if length == 0 and method in _BODY_METHODS and _is_json(meta):
        return 400, {
            "type": problems.MALFORMED_BODY,
            "title": "Malformed request body",
            "detail": "The body is empty; send a JSON document.",
        }
    return None


_BODY_METHODS = {"POST", "PUT", "PATCH"}


def _is_json(meta) -> bool:
    media_type = meta.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


class ProblemMiddleware:
    """The last line of defence: an unhandled exception becomes a logged, traceless 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, domain.DomainError):  # raised outside a DRF view
            return problems.domain_response(exception)
        if isinstance(exception, Http404):
            return problems.problem_response(404, detail=str(exception) or None)
        if isinstance(exception, PermissionDenied):
            return problems.problem_response(403)
        if isinstance(exception, SuspiciousOperation):
            # Django's own verdict on hostile input (too many fields, a bad Host): a client error.
            return problems.problem_response(400, detail="The request was refused as malformed.")
        error_logger.exception(
            "unhandled exception", extra={"method": request.method, "path": request.path}
        )
        return problems.problem_response(
            500, detail="The server failed to handle this request; it has been logged."
        )
