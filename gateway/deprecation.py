"""The deprecation lifecycle at the gateway: standard headers, brownouts and 410 Gone."""

from __future__ import annotations

import datetime as dt
import functools

from django.utils.http import http_date

import contracts
from contracts.lifecycle import BROWNOUT, Lifecycle, load
from contracts.validation import operations
from gateway.conf import hot
from gateway.edge import problem
from gateway.routing import Route
from services.kit import problems

GONE = problems.problem_type("version-gone")


def lifecycle(service: str, version: str) -> Lifecycle:
    found = load(hot().lifecycle_file).get((service, version))
    return found if found is not None else _undeclared(service, version)


@functools.cache
def _undeclared(service: str, version: str) -> Lifecycle:
    return Lifecycle(service, version)


@functools.cache
def _successor_paths(service: str, successor: str) -> dict[str, str]:
    """Operation id to path template in the successor's contract."""
    return {op_id: op.path for op_id, op in operations(contracts.load(service, successor)).items()}


def successor_url(route: Route, lc: Lifecycle) -> str | None:
    """The same operation in the successor version, with the same path parameters."""
    if not lc.successor or route.operation is None or not route.operation.operation_id:
        return None
    path = _successor_paths(route.service, lc.successor).get(route.operation.operation_id)
    if path is None:
        return None
    for name, value in route.operation.params.items():
        path = path.replace("{" + name + "}", value)
    if "{" in path:
        return None
    return f"/{route.service}{path}"


def headers(route: Route, lc: Lifecycle) -> dict[str, str]:
    """RFC 9745 ``Deprecation``, RFC 8594 ``Sunset`` and their ``Link`` relations."""
    if not lc.announced:
        return {}
    found: dict[str, str] = {}
    links = []
    if lc.deprecated_at:
        found["Deprecation"] = f"@{int(lc.deprecated_at.timestamp())}"
        if lc.docs:
            links.append(f'<{lc.docs}>; rel="deprecation"; type="text/html"')
    if lc.sunset_at:
        found["Sunset"] = http_date(lc.sunset_at.timestamp())
        if lc.docs:
            links.append(f'<{lc.docs}>; rel="sunset"; type="text/html"')
    successor = successor_url(route, lc)
    if successor:
        links.append(f'<{successor}>; rel="successor-version"')
    if links:
        found["Link"] = ", ".join(links)
    return found


def gone(route: Route, lc: Lifecycle, now: dt.datetime | None = None):
    """410 during a brownout or after the sunset: what happened, and what to move to."""
    return problem(410, headers=headers(route, lc), **gone_fields(lc, lc.state(now)))


def gone_fields(lc: Lifecycle, state: str) -> dict:
    """The 410 problem's fields for a version in ``state`` (a brownout, or after the sunset);
    also the served contracts' example of it."""
    name = f"{lc.service} {lc.version}"
    if state == BROWNOUT:
        detail = f"{name} is deprecated and in a scheduled brownout; it will be switched off"
        detail += f" on {lc.sunset_at:%Y-%m-%d}." if lc.sunset_at else "."
    else:
        detail = f"{name} was switched off on {lc.sunset_at:%Y-%m-%d}."
    if lc.successor:
        detail += f" Migrate to {lc.successor}."
    fields = {"type": GONE, "title": "This API version is gone", "detail": detail}
    fields.update(service=lc.service, version=lc.version, state=state)
    if lc.successor:
        fields["successor"] = lc.successor
    if lc.docs:
        fields["docs"] = lc.docs
    return fields
