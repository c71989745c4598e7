"""Edge validation: the gateway rejects requests that break the contract before they travel.

Enabled per service version with ``GATEWAY_VALIDATE=faq:v2,...`` (``*`` for all).
"""

from __future__ import annotations

import functools

from contracts.validation import Contract
from gateway.conf import hot
from gateway.edge import problem
from gateway.routing import Route
from services.kit import problems


def enabled(route: Route) -> bool:
    wanted = hot().validate
    return "*" in wanted or f"{route.service}:{route.version}" in wanted


@functools.cache
def _contract(service: str, version: str) -> Contract:
    return Contract.published(service, version)


def check(call, route: Route):
    """A problem answer when the call breaks the contract, else ``None``."""
    if route.operation is None or not route.operation.operation_id or not enabled(route):
        return None
    contract = _contract(route.service, route.version)
    spec = contract.operation(route.operation.operation_id).spec
    content_type = call.content_type.split(";")[0].strip().lower()
    has_body = call.content_length > 0
    accepted = list(spec.get("requestBody", {}).get("content", {}))
    if has_body and accepted and content_type not in accepted:
        return problem(
            415,
            detail=f"{content_type or 'A body without a type'} is not accepted here; send "
            f"{', '.join(accepted)}.",
        )
    try:
        errors = contract.request_errors(
            call.method,
            route.path,
            query=call.query_items(),
            body=call.body if has_body else None,
            content_type=content_type or "application/json",
        )
    except RecursionError:
        # JSON nested past the recursion limit (10 000 arrays, say): the services' parser refuses
        # it the same way.
        return problem(
            400,
            type=problems.MALFORMED_BODY,
            title="Malformed request body",
            detail="The JSON body is nested too deeply.",
        )
    if not errors:
        return None
    return problem(
        400,
        type=problems.VALIDATION,
        title="Your request is not valid",
        detail=f"The request breaks the {route.service} {route.version} contract; see errors.",
        errors=[{"detail": error, "code": "contract"} for error in errors],
    )
