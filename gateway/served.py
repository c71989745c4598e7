"""The contracts consumers read: each service's committed contract, as the gateway serves it.

A committed contract (``contracts/<service>/<version>.yaml``) is the service's view: its
operations, bodies and its own errors. A consumer never calls the service, though; every call
goes through the gateway, which adds its own part to each one. The served contract is the
committed one with that part composed in, in these steps:

1. :func:`point_at_gateway`   ``servers``: the gateway's public URL plus ``/{service}``
2. :func:`require_key`        the bearer scheme of consumer keys, on every operation
3. :func:`add_gateway_answers` 401, 429 (``Retry-After``), 502/503/504, and 410 on deprecated
                              versions, on every operation
4. :func:`add_gateway_headers` ``X-Request-ID`` on every answer; ``Deprecation``, ``Sunset`` and
                              ``Link`` on a deprecated version's answers

Composed from the committed contract, the gateway's policies and ``contracts/lifecycle.yaml``
(what :func:`gateway.deprecation.lifecycle` reads), nothing else: the committed files stay the
services' view, and ``contracts check`` keeps guarding them.
"""

from __future__ import annotations

import copy
import functools

from django.conf import settings
from django.utils.http import http_date

import contracts
from contracts.lifecycle import BROWNOUT, SUNSET, Lifecycle
from contracts.validation import operations
from gateway import deprecation
from gateway.proxy import UpstreamError
from services.kit import problems

SCHEME = "consumerKey"
PROBLEM = "#/components/schemas/Problem"
GONE_PROBLEM = "GoneProblem"
PROBLEM_JSON = problems.CONTENT_TYPE
EXAMPLE_REQUEST_ID = "6f1c0e0fd2a44d0c9a4f7f7f1f2b3c4d"


def public_url(request) -> str:
    """Where consumers reach the gateway: ``GATEWAY_PUBLIC_URL`` when set, else the scheme and
    host of the request (a host Django has checked against ``ALLOWED_HOSTS``)."""
    configured = settings.GATEWAY_PUBLIC_URL
    if configured:
        return configured.rstrip("/")
    return request.build_absolute_uri("/").rstrip("/")


def document(service: str, version: str, server_url: str) -> dict:
    """The served contract of ``service`` ``version`` for consumers reaching the gateway at
    ``server_url``. Cached: treat it as read-only."""
    return _compose(
        service, version, server_url.rstrip("/"), deprecation.lifecycle(service, version)
    )


@functools.lru_cache(maxsize=64)
def _compose(service: str, version: str, server_url: str, lifecycle: Lifecycle) -> dict:
    schema = copy.deepcopy(contracts.load(service, version))
    point_at_gateway(schema, service, server_url)
    require_key(schema)
    add_gateway_answers(schema, service, lifecycle)
    add_gateway_headers(schema, lifecycle)
    return schema


def point_at_gateway(schema: dict, service: str, server_url: str) -> None:
    schema["servers"] = [
        # x-internal: the audience (OWASP API9). Consumers are meant to read this one.
        {
            "url": f"{server_url}/{service}",
            "description": "The Switchyard gateway",
            "x-internal": False,
        }
    ]
    info = schema.setdefault("info", {})
    info["description"] = (
        info.get("description", "").rstrip()
        + "\n\nCall it through the gateway at the server below, with your consumer key as "
        "`Authorization: Bearer <key>`. Besides the service's own answers, the gateway may "
        "answer any call itself: 401 (no valid key), 429 (over a rate limit), 502/503/504 "
        "(the service is unreachable, unavailable or too slow) and, for a deprecated version, "
        "410 (switched off, or in a brownout)."
    ).lstrip()


def require_key(schema: dict) -> None:
    schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes[SCHEME] = {
        "type": "http",
        "scheme": "bearer",
        "description": "A consumer key from the platform team (`manage.py consumers create`), "
        "sent as `Authorization: Bearer <key>`.",
    }
    required = [{SCHEME: []}]
    schema["security"] = required
    for operation in _operations(schema):
        operation["security"] = copy.deepcopy(required)


def add_gateway_answers(schema: dict, service: str, lifecycle: Lifecycle) -> None:
    components = schema.setdefault("components", {})
    responses = components.setdefault("responses", {})
    headers = components.setdefault("headers", {})
    headers.update(_headers(lifecycle))
    own = _gateway_responses(service, lifecycle)
    if lifecycle.announced:
        components.setdefault("schemas", {})[GONE_PROBLEM] = _GONE_SCHEMA
    for name, response in own.values():
        responses[name] = response
    for operation in _operations(schema):
        answers = operation.setdefault("responses", {})
        for status, (name, response) in own.items():
            if status in answers:
                _merge(answers[status], response)
            else:
                answers[status] = {"$ref": f"#/components/responses/{name}"}


def _merge(service_answer: dict, gateway_answer: dict) -> None:
    """A status both the service and the gateway may answer (a 410 of a deleted resource on a
    deprecated version, say): the service's answer, plus what the gateway's adds to it: its
    meaning, its headers and its example. Both are problems, so the service's schema holds."""
    if "$ref" in service_answer:
        return
    service_answer["description"] = (
        f"{service_answer.get('description', '').rstrip()} Or: {gateway_answer['description']}"
    ).strip()
    service_answer.setdefault("headers", {}).update(gateway_answer["headers"])
    theirs = gateway_answer["content"][PROBLEM_JSON]
    ours = service_answer.setdefault("content", {}).setdefault(PROBLEM_JSON, theirs)
    if ours is not theirs:
        ours.setdefault("examples", {}).update(theirs.get("examples", {}))


def add_gateway_headers(schema: dict, lifecycle: Lifecycle) -> None:
    """``X-Request-ID`` on every answer; the lifecycle headers on every answer of a deprecated
    version but the 401s (they are refused before the version's lifecycle is looked at)."""
    lifecycle_headers = _lifecycle_headers(lifecycle)
    answers = list(schema.get("components", {}).get("responses", {}).items())
    for operation in _operations(schema):
        answers += [(status, r) for status, r in operation.get("responses", {}).items()]
    for key, response in answers:
        if "$ref" in response:
            continue  # a component: given its headers where it is declared
        declared = response.setdefault("headers", {})
        declared.setdefault("X-Request-ID", {"$ref": "#/components/headers/X-Request-ID"})
        if key not in ("401", "GatewayUnauthorized"):
            for name in lifecycle_headers:
                declared.setdefault(name, {"$ref": f"#/components/headers/{name}"})


def _operations(schema: dict):
    return [operation.spec for operation in operations(schema).values()]


def _lifecycle_headers(lifecycle: Lifecycle) -> list[str]:
    if not lifecycle.announced:
        return []
    names = []
    if lifecycle.deprecated_at:
        names.append("Deprecation")
    if lifecycle.sunset_at:
        names.append("Sunset")
    names.append("Link")
    return names


def _problem_response(description: str, example: dict, *, headers=(), schema=PROBLEM) -> dict:
    return {
        "description": description,
        "headers": {name: {"$ref": f"#/components/headers/{name}"} for name in headers},
        "content": {
            PROBLEM_JSON: {
                "schema": {"$ref": schema},
                "examples": {example.pop("_name"): {"value": example}},
            }
        },
    }


def _example(name: str, status: int, detail: str) -> dict:
    return {"_name": name, **_example_of(status, {"detail": detail})}


def _example_of(status: int, fields: dict) -> dict:
    """The problem the kit renders, with a fixed request id (not the one of whichever request
    first composed the document)."""
    return {**problems.problem(status, **fields), "request_id": EXAMPLE_REQUEST_ID}


def _gateway_responses(service: str, lifecycle: Lifecycle) -> dict[str, tuple[str, dict]]:
    """``{status: (component name, response)}`` of the answers the gateway itself gives."""
    answers = {
        "401": (
            "GatewayUnauthorized",
            _problem_response(
                "No valid consumer key: it is missing, unknown, rotated or revoked. Answered by "
                "the gateway; `WWW-Authenticate` names the scheme.",
                _example(
                    "InvalidKey",
                    401,
                    "This API key is not valid (unknown, rotated or revoked).",
                ),
                headers=("WWW-Authenticate",),
            ),
        ),
        "429": (
            "GatewayTooManyRequests",
            _problem_response(
                "Over the consumer's rate limit, or too many failed authentications from this "
                "address. Answered by the gateway; retry after `Retry-After` seconds.",
                _example("OverLimit", 429, "support-app is over its rate limit; retry in 12 s."),
                headers=("Retry-After",),
            ),
        ),
    }
    statuses = {}
    for kind, (status, message) in UpstreamError.MESSAGES.items():
        statuses.setdefault(status, []).append((kind, message.format(service=service)))
    meanings = {
        502: ("GatewayBadGateway", "the connection to the service was refused or dropped"),
        503: (
            "GatewayServiceUnavailable",
            "the service is marked down after repeated failures, or has too many calls in "
            "flight; retry after `Retry-After` seconds",
        ),
        504: ("GatewayTimeout", "the service did not accept the connection or answer in time"),
    }
    for status, (name, meaning) in meanings.items():
        _kind, detail = statuses[status][0]
        answers[str(status)] = (
            name,
            _problem_response(
                f"Answered by the gateway: {meaning}.",
                _example(name.removeprefix("Gateway"), status, detail),
                headers=("Retry-After",) if status == 503 else (),
            ),
        )
    if lifecycle.announced:
        answers["410"] = ("VersionGone", _gone_response(lifecycle))
    return answers


def _gone_response(lifecycle: Lifecycle) -> dict:
    name = f"{lifecycle.service} {lifecycle.version}"
    when = []
    if lifecycle.brownouts:
        when.append("during a scheduled brownout")
    if lifecycle.sunset_at:
        when.append(f"from the sunset on {lifecycle.sunset_at:%Y-%m-%d}")
    # The example is the gateway's own answer: after the sunset, or in a brownout without one.
    state = SUNSET if lifecycle.sunset_at else BROWNOUT
    example = {
        "_name": "SwitchedOff",
        **_example_of(410, deprecation.gone_fields(lifecycle, state)),
    }
    return _problem_response(
        f"{name} is deprecated and answered 410 by the gateway "
        f"{' and '.join(when) or 'once it is switched off'}.",
        example,
        headers=_lifecycle_headers(lifecycle),
        schema=f"#/components/schemas/{GONE_PROBLEM}",
    )


_GONE_SCHEMA = {
    "description": "The problem of a version that is gone, with what to move to.",
    "allOf": [
        {"$ref": PROBLEM},
        {
            "type": "object",
            "properties": {
                "service": {"type": "string"},
                "version": {"type": "string"},
                "state": {"type": "string", "enum": ["brownout", "sunset"]},
                "successor": {"type": "string", "description": "The version to move to."},
                "docs": {"type": "string", "format": "uri", "description": "Migration guide."},
            },
            "required": ["service", "version", "state"],
        },
    ],
}


def _headers(lifecycle: Lifecycle) -> dict:
    found = copy.deepcopy(_HEADERS)
    if lifecycle.deprecated_at:
        found["Deprecation"]["example"] = f"@{int(lifecycle.deprecated_at.timestamp())}"
    if lifecycle.sunset_at:
        found["Sunset"]["example"] = http_date(lifecycle.sunset_at.timestamp())
    if not lifecycle.announced:
        for name in ("Deprecation", "Sunset", "Link"):
            del found[name]
    return found


_HEADERS = {
    "X-Request-ID": {
        "required": True,
        "description": "Identifies the call in the gateway's and the service's logs; the one the "
        "caller sent when it sent a well-formed one.",
        "schema": {"type": "string", "maxLength": 128},
    },
    "Retry-After": {
        "required": True,
        "description": "Seconds to wait before calling again.",
        "schema": {"type": "integer", "format": "int32", "minimum": 1},
    },
    "WWW-Authenticate": {
        "required": True,
        "description": 'The authentication scheme: `Bearer realm="switchyard"`.',
        "schema": {"type": "string"},
    },
    "Deprecation": {
        "description": "RFC 9745: when this version was deprecated, as `@<unix seconds>`.",
        "schema": {"type": "string", "pattern": "^@-?[0-9]+$"},
    },
    "Sunset": {
        "description": "RFC 8594: when this version is switched off (an HTTP date).",
        "schema": {"type": "string"},
    },
    "Link": {
        "description": 'The migration guide (`rel="deprecation"`, `rel="sunset"`) and the same '
        'operation in the successor version (`rel="successor-version"`).',
        "schema": {"type": "string"},
    },
}
