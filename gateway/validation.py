"""Edge validation: the gateway rejects requests that break the contract before they travel.

Enabled per service version with ``GATEWAY_VALIDATE=faq:v2,...`` (``*`` for all).
"""

from __future__ import annotations

import functools

from django.conf import settings

from contracts.validation import Contract
from gateway.routing import Route
from services.kit import problems


def enabled(route: Route) -> bool:
    wanted = settings.GATEWAY_VALIDATE
    return "*" in wanted or f"{route.service}:{route.version}" in wanted


@functools.cache
def _contract(service: str, version: str) -> Contract:
    return Contract.published(service, version)


def check(request, route: Route):
    """A problem response when the request breaks the contract, else ``None``."""
    if route.operation is None or not route.operation.operation_id or not enabled(route):
        return None
    contract = _contract(route.service, route.version)
    spec = contract.operation(route.operation.operation_id).spec
    content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    has_body = request.META.get("CONTENT_LENGTH") not in (None, "", "0")
    accepted = list(spec.get("requestBody", {}).get("content", {}))
    if has_body and accepted and content_type not in accepted:
        return problems.problem_response(
            415,
            detail=f"{content_type or 'A body without a type'} is not accepted here; send "
            f"{', '.join(accepted)}.",
        )
    query = [(key, value) for key, values in request.GET.lists() for value in values]
    errors = contract.request_errors(
        request.method,
        route.path,
        query=query,
        body=request.body if has_body else None,
        content_type=content_type or "application/json",
    )
    if not errors:
        return None
    return problems.problem_response(
        400,
        type=problems.VALIDATION,
        title="Your request is not valid",
        detail=f"The request breaks the {route.service} {route.version} contract; see errors.",
        errors=[{"detail": error, "code": "contract"} for error in errors],
    )
