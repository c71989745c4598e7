"""The gateway's pages, and the one view every proxied call goes through."""

from __future__ import annotations

import time

from django.http import HttpResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt

from gateway import auth, deprecation, metrics, proxy, response_cache, routing, validation
from gateway.breaker import breaker_for
from gateway.ratelimit import get_rate_limiter
from gateway.usage import get_recorder
from services.kit import problems

ANONYMOUS = "(anonymous)"
_rate_limiter = None


def _limiter():
    global _rate_limiter
    if _rate_limiter is None:
        _rate_limiter = get_rate_limiter()
    return _rate_limiter


def _unauthorized(detail: str):
    return problems.problem_response(
        401, detail=detail, headers={"WWW-Authenticate": 'Bearer realm="switchyard"'}
    )


@csrf_exempt
def proxy_view(request, service: str, version: str, rest: str | None = None):
    started = time.perf_counter()
    raw_path = request.META.get("RAW_URI") or request.META.get("REQUEST_URI") or request.path
    try:
        route = routing.resolve(
            service, version, rest or "", raw_path.split("?")[0], request.method
        )
    except routing.NotRoutable as exc:
        return problems.problem_response(404, detail=str(exc))

    token = auth.bearer_token(request.headers.get("Authorization", ""))
    consumer = auth.consumer_for_key(token) if token else None
    name = consumer.name if consumer else ANONYMOUS
    status, kind = 500, None
    try:
        if token is None:
            response = _unauthorized("Send your API key as `Authorization: Bearer <key>`.")
        elif consumer is None:
            response = _unauthorized("This API key is not valid (unknown, rotated or revoked).")
        else:
            response = _handle(request, route, name, consumer)
        status = response.status_code
        kind = getattr(response, "upstream_failure", None)
        return response
    finally:
        # Unauthenticated calls are counted too (as "(anonymous)"): who calls without a key is
        # exactly what a platform team needs to find before switching a version off.
        elapsed = time.perf_counter() - started
        get_recorder().record(
            service=route.service,
            version=route.version,
            operation=route.operation_name,
            method=request.method,
            consumer=name,
            status=status,
            latency_ms=elapsed * 1000,
        )
        metrics.REQUESTS.labels(route.service, route.version, name, str(status)).inc()
        metrics.LATENCY.labels(route.service, route.version).observe(elapsed)
        if kind:
            metrics.UPSTREAM_FAILURES.labels(route.service, kind).inc()


def _handle(request, route: routing.Route, name: str, consumer):
    lifecycle = deprecation.lifecycle(route.service, route.version)
    if lifecycle.gone():
        return deprecation.gone(route, lifecycle)
    lifecycle_headers = deprecation.headers(route, lifecycle)

    wait = _limiter().check(consumer)
    if wait is not None:
        return problems.problem_response(
            429,
            detail=f"{name} is over its rate limit; retry in {wait} s.",
            headers={"Retry-After": str(wait), **lifecycle_headers},
        )

    rejected = validation.check(request, route)
    if rejected is not None:
        return _with(rejected, lifecycle_headers)

    cached = response_cache.lookup(route, request, name)
    if cached is not None:
        response = HttpResponse(cached["body"], status=cached["status"])
        for header, value in cached["headers"]:
            response[header] = value
        response["Age"] = str(int(time.time() - cached["stored_at"]))
        response["X-Cache"] = "HIT"
        return _with(response, lifecycle_headers)

    breaker = breaker_for(route.upstream)
    wait = breaker.allow()
    if wait is not None:
        response = problems.problem_response(
            503,
            detail=f"{route.service} is unavailable; the gateway will try it again shortly.",
            headers={"Retry-After": str(max(1, round(wait)))},
        )
        response.upstream_failure = "circuit-open"
        return _with(response, lifecycle_headers)
    try:
        upstream = proxy.forward(request, route, name)
    except proxy.UpstreamError as exc:
        breaker.failed()
        detail = {
            "refused": f"{route.service} refused the connection.",
            "reset": f"{route.service} dropped the connection.",
            "connect-timeout": f"{route.service} did not accept the connection in time.",
            "read-timeout": f"{route.service} did not answer in time.",
        }[exc.kind]
        response = problems.problem_response(exc.status, detail=detail)
        response.upstream_failure = exc.kind
        return _with(response, lifecycle_headers)
    except BaseException:
        breaker.failed()  # never leave a half-open breaker waiting for a probe that died
        raise
    breaker.succeeded()

    headers = proxy.response_headers(upstream)
    ttl = response_cache.ttl_of(upstream) if request.method == "GET" else None
    if ttl is not None:
        body = upstream.raw.read(decode_content=False)
        upstream.close()
        response_cache.store(route, request, name, upstream, headers, body, ttl)
        response = HttpResponse(body, status=upstream.status_code)
    else:
        response = StreamingHttpResponse(proxy.stream(upstream), status=upstream.status_code)
    for header, value in headers:
        response[header] = value
    if request.method == "GET":
        response["X-Cache"] = "MISS"
    return _with(response, lifecycle_headers)


def _with(response, headers: dict[str, str]):
    for name, value in headers.items():
        if name == "Link" and response.has_header("Link"):
            value = f"{response['Link']}, {value}"  # keep the upstream's own relations
        response[name] = value
    return response


def metrics_view(request):
    body, content_type = metrics.exposition()
    return HttpResponse(body, content_type=content_type)
