"""RFC 9457 problem details: the one error format of every Switchyard app.

Every error a client can cause, whether DRF raised it, Django did, or a service raised a domain
error (:mod:`services.kit.errors`), leaves as ``application/problem+json`` with ``type``, ``title``,
``status`` and ``detail``;
validation failures add ``errors``, one entry per field (``pointer``, RFC 6901) or query parameter
(``parameter``). Unexpected failures are a bare 500: the trace goes to the log, never to the client.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error

from services.kit import errors as domain
from services.kit.logging import request_id_var

logger = logging.getLogger("switchyard.errors")

CONTENT_TYPE = "application/problem+json"
TYPE_BASE = "https://switchyard.dev/problems/"


def problem_type(slug: str) -> str:
    return TYPE_BASE + slug


VALIDATION = problem_type("validation-error")
INVALID_PARAMETERS = problem_type("invalid-parameters")
MALFORMED_BODY = problem_type("malformed-body")
BODY_TOO_LARGE = problem_type("body-too-large")


class BadRequest(exceptions.APIException):
    status_code = 400
    default_detail = "The request could not be understood."
    default_code = "bad_request"


class ParameterValidationError(exceptions.ValidationError):
    """Invalid query parameters: reported with ``parameter`` names rather than body pointers."""


def problem(
    status_code: int,
    *,
    detail: str | None = None,
    title: str | None = None,
    type: str = "about:blank",
    **extensions: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": type,
        "title": title or HTTPStatus(status_code).phrase,
        "status": status_code,
    }
    if detail:
        body["detail"] = detail
    body.update(extensions)
    request_id = request_id_var.get()
    if request_id:
        body["request_id"] = request_id
    return body


def problem_response(status_code: int, headers: dict | None = None, **kwargs: Any) -> JsonResponse:
    """A problem response for plain Django views and middleware (no DRF negotiation)."""
    response = JsonResponse(
        problem(status_code, **kwargs), status=status_code, content_type=CONTENT_TYPE
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _escape(token: Any) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def _flatten(details: Any, path: tuple = ()) -> Iterator[tuple[tuple, str, str]]:
    """Walk DRF's nested error details down to (path, message, code) leaves."""
    if isinstance(details, dict):
        if set(details) == {"message", "code"}:
            yield path, str(details["message"]), str(details["code"])
            return
        for key, value in details.items():
            yield from _flatten(value, (*path, key))
    elif isinstance(details, list):
        if all(isinstance(item, dict) and set(item) == {"message", "code"} for item in details):
            for item in details:
                yield path, str(item["message"]), str(item["code"])
        else:
            for index, item in enumerate(details):
                if item:  # ListSerializer reports {} for valid items
                    yield from _flatten(item, (*path, index))
    else:
        yield path, str(details), "invalid"


def _pointer(path: tuple) -> str:
    return "#/" + "/".join(_escape(p) for p in path) if path else "#"


def _field_errors(exc: exceptions.ValidationError, *, parameters: bool) -> list[dict[str, str]]:
    errors = []
    for path, message, code in _flatten(exc.get_full_details()):
        # DRF reports "not an object" errors under non_field_errors, at any depth.
        path = tuple(part for part in path if part != "non_field_errors")
        entry = {"detail": message, "code": code}
        if parameters:
            entry["parameter"] = ".".join(str(p) for p in path)
        else:
            entry["pointer"] = _pointer(path)
        errors.append(entry)
    return errors


def _validation_problem(
    code: int, errors: list[dict[str, str]], *, parameters: bool
) -> dict[str, Any]:
    what = "query parameter" if parameters else "field"
    count = len(errors)
    return problem(
        code,
        type=INVALID_PARAMETERS if parameters else VALIDATION,
        title="Invalid query parameters" if parameters else "Your request is not valid",
        detail=f"{count} {what}{'s' if count != 1 else ''} failed validation; see errors.",
        errors=errors,
    )


def _from_api_exception(exc: exceptions.APIException) -> tuple[int, dict[str, Any]]:
    code = exc.status_code
    if isinstance(exc, exceptions.ValidationError):
        parameters = isinstance(exc, ParameterValidationError)
        errors = _field_errors(exc, parameters=parameters)
        return code, _validation_problem(code, errors, parameters=parameters)
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if isinstance(exc, exceptions.ParseError):
        return code, problem(
            code, type=MALFORMED_BODY, title="Malformed request body", detail=detail
        )
    return code, problem(code, detail=str(detail))


# The status of each kind of domain error; any other DomainError is a plain 400.
DOMAIN_STATUSES: tuple[tuple[type[domain.DomainError], int], ...] = (
    (domain.Invalid, 400),
    (domain.NotFound, 404),
    (domain.Conflict, 409),
    (domain.Unavailable, 503),
)


def domain_problem(exc: domain.DomainError) -> tuple[int, dict[str, Any], dict[str, str]]:
    """(status, problem, headers) of a domain error: the one place where they meet HTTP."""
    if isinstance(exc, domain.Invalid):
        errors = [
            {"detail": e.message, "code": e.code, "pointer": _pointer(e.path)} for e in exc.errors
        ]
        return 400, _validation_problem(400, errors, parameters=False), {}
    code = next((code for kind, code in DOMAIN_STATUSES if isinstance(exc, kind)), 400)
    headers = {}
    if isinstance(exc, domain.Unavailable) and exc.retry_after is not None:
        headers["Retry-After"] = str(exc.retry_after)
    return code, problem(code, detail=exc.detail), headers


def domain_response(exc: domain.DomainError) -> JsonResponse:
    """A domain error raised outside DRF (plain Django views, middleware)."""
    code, body, headers = domain_problem(exc)
    response = JsonResponse(body, status=code, content_type=CONTENT_TYPE)
    for name, value in headers.items():
        response[name] = value
    return response


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every client error becomes problem+json."""
    if isinstance(exc, domain.DomainError):
        code, body, headers = domain_problem(exc)
        return Response(body, status=code, headers=headers, content_type=CONTENT_TYPE)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404 | ObjectDoesNotExist):
        exc = exceptions.NotFound(str(exc) or None)
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, SuspiciousOperation):
        exc = BadRequest("The request was refused as malformed.")

    if not isinstance(exc, exceptions.APIException):
        return None  # ProblemMiddleware turns it into a logged 500

    code, body = _from_api_exception(exc)
    headers = {}
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        headers["Retry-After"] = str(int(exc.wait))
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        authenticate = context["view"].get_authenticate_header(context["request"])
        if authenticate:
            headers["WWW-Authenticate"] = authenticate
        else:
            code = body["status"] = status.HTTP_403_FORBIDDEN
            body["title"] = HTTPStatus(code).phrase
    return Response(body, status=code, headers=headers, content_type=CONTENT_TYPE)
