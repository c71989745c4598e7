"""The hot path: every proxied call goes through these steps, in this order.

Each step takes the :class:`~gateway.edge.Call`, adds what it learns to it, and either lets the
call go on (``None``) or answers it (an :class:`~gateway.edge.Answer`):

1. :func:`route`            which service, version and operation (404 when none)
2. :func:`authenticate`     the consumer behind the bearer key (401; 429 after too many failures)
3. :func:`lifecycle_gate`   410 during a brownout or after the sunset; the lifecycle headers
4. :func:`limit`            the consumer's rate limit (429 with ``Retry-After``)
5. :func:`validate`         the contract, for the versions checked at the edge (400/415)
6. :func:`serve_cached`     a cached answer, when the upstream allowed one
7. :func:`call_upstream`    bulkhead, circuit breaker, forwarding, failures (502/503/504)

:func:`finish` then adds the lifecycle headers and counts the call (usage and metrics). Steps run
in the worker's event loop; the two that wait (a key the worker does not hold yet, the upstream
call) are coroutines, and nothing else in here waits on the network, but the shared cache.
"""

from __future__ import annotations

import inspect
import time

from asgiref.sync import sync_to_async

from gateway import auth, deprecation, metrics, proxy, response_cache, routing, validation
from gateway.breaker import breaker_for
from gateway.bulkhead import bulkhead_for
from gateway.edge import Answer, Call, problem
from gateway.ratelimit import FailedAuthLimiter, get_rate_limiter
from gateway.usage import ANONYMOUS, get_recorder

# Bodies up to this size are read whole and sent in one write; larger ones are streamed.
WHOLE_BODY_BYTES = 64 * 1024


def route(call: Call) -> Answer | None:
    try:
        call.route = routing.resolve(
            call.service, call.version, call.rest or "", call.raw_path, call.method
        )
    except routing.NotRoutable as exc:
        return problem(404, detail=str(exc))
    return None


async def authenticate(call: Call) -> Answer | None:
    """The consumer behind the bearer key, and the limit on failed authentications.

    Every failure (a missing, malformed, unknown, rotated or revoked key) is counted against the
    client address (:attr:`Call.client`); past ``GATEWAY_AUTH_FAILURES_PER_MINUTE`` of them, the
    address's calls that would need a key look-up get 429 until its minute is over, without
    reaching the database. A key this worker holds as valid still gets through from such an
    address. The trade-off: a consumer behind the same NAT or router as a guesser keeps working
    (nobody can lock a consumer out by failing from its address), but only while its key is held;
    a worker that does not hold it (a fresh one, or one that just dropped its keys after a key
    change) answers it 429 like the guesser's calls until the minute is over.
    """
    token = auth.bearer_token(call.header("authorization"))
    consumer = auth.NOT_HELD if token is None else auth.held_consumer(token)
    if consumer is auth.NOT_HELD or consumer is None:
        wait = _failed_auth.blocked(call.client)
        if wait is not None:
            return problem(
                429,
                detail=f"Too many failed authentications from this address; retry in {wait} s.",
                headers={"Retry-After": str(wait)},
            )
        if token is None:
            _failed_auth.failed(call.client)
            return _unauthorized("Send your API key as `Authorization: Bearer <key>`.")
        if consumer is auth.NOT_HELD:  # the database, off the event loop
            consumer = await sync_to_async(auth.consumer_for_key)(token)
        if consumer is None:
            _failed_auth.failed(call.client)
            return _unauthorized("This API key is not valid (unknown, rotated or revoked).")
    call.consumer, call.name = consumer, consumer.name
    return None


_failed_auth = FailedAuthLimiter()


def _unauthorized(detail: str) -> Answer:
    return problem(401, detail=detail, headers={"WWW-Authenticate": 'Bearer realm="switchyard"'})


def lifecycle_gate(call: Call) -> Answer | None:
    lifecycle = deprecation.lifecycle(call.route.service, call.route.version)
    if lifecycle.gone():
        return deprecation.gone(call.route, lifecycle)
    call.lifecycle_headers = deprecation.headers(call.route, lifecycle)
    return None


_rate_limiter = None


def limit(call: Call) -> Answer | None:
    global _rate_limiter
    if _rate_limiter is None:
        _rate_limiter = get_rate_limiter()
    wait = _rate_limiter.check(call.consumer)
    if wait is None:
        return None
    return problem(
        429,
        detail=f"{call.name} is over its rate limit; retry in {wait} s.",
        headers={"Retry-After": str(wait)},
    )


def validate(call: Call) -> Answer | None:
    return validation.check(call, call.route)


def serve_cached(call: Call) -> Answer | None:
    return response_cache.lookup(call.route, call, call.name)


async def call_upstream(call: Call) -> Answer:
    """Forward within the upstream's bulkhead and breaker; failures become gateway problems."""
    bulkhead = bulkhead_for(call.route.upstream)
    if not bulkhead.enter():
        return _failure(call, proxy.UpstreamError("bulkhead-full", retry_after=1))
    answer = None
    try:
        answer = await _through_breaker(call)
    finally:
        if answer is None or answer.close is None:
            bulkhead.leave()
    if answer.close is None:
        return answer
    # Streamed: the slot is held until the body has gone out.
    close = answer.close

    async def leave():
        try:
            await close()
        finally:
            bulkhead.leave()

    answer.close = leave
    return answer


async def _through_breaker(call: Call) -> Answer:
    breaker = breaker_for(call.route.upstream)
    wait = breaker.allow()
    if wait is not None:
        return _failure(call, proxy.UpstreamError("circuit-open", retry_after=wait))
    try:
        upstream = await proxy.forward(call, call.route, call.name)
    except proxy.UpstreamError as exc:
        breaker.failed()
        return _failure(call, exc)
    except BaseException:
        breaker.failed()  # never leave a half-open breaker waiting for a probe that died
        raise
    breaker.succeeded()
    try:
        return await _relay(call, upstream)
    except proxy.UpstreamError as exc:  # it broke off before the body was complete
        breaker.failed()
        return _failure(call, exc)


def _failure(call: Call, error: proxy.UpstreamError) -> Answer:
    headers = {}
    if error.retry_after is not None:
        headers["Retry-After"] = str(max(1, round(error.retry_after)))
    call.failure = error.kind
    return problem(error.status, detail=error.detail(call.route.service), headers=headers)


async def _relay(call: Call, upstream) -> Answer:
    """The upstream's answer for the caller: read whole when small (and stored when cacheable),
    else streamed as it arrives."""
    headers = proxy.response_headers(upstream)
    if call.method == "GET":
        headers.append(("X-Cache", "MISS"))
    length = upstream.headers.get("Content-Length")
    small = length is not None and length.isdigit() and int(length) <= WHOLE_BODY_BYTES
    if call.method == "HEAD" or small or upstream.status in (204, 304):
        body = await proxy.read_all(upstream)
        if call.method == "GET":
            response_cache.maybe_store(call.route, call, call.name, upstream, headers, body)
        return Answer(upstream.status, headers, body)
    answer = Answer(upstream.status, headers)
    answer.stream = proxy.stream(upstream)
    answer.close = answer.stream.aclose
    return answer


STEPS = (route, authenticate, lifecycle_gate, limit, validate, serve_cached, call_upstream)


async def handle(call: Call) -> Answer:
    for step in STEPS:
        answer = step(call)
        if inspect.isawaitable(answer):
            answer = await answer
        if answer is not None:
            break
    finish(call, answer)
    return answer


def finish(call: Call, answer: Answer) -> None:
    """Lifecycle headers on the answer, then the call counted (not the routing failures: they
    name no service or version)."""
    if call.lifecycle_headers:
        _add_lifecycle_headers(answer, call.lifecycle_headers)
    if call.route is None:
        return
    elapsed = time.perf_counter() - call.started
    name = call.name or ANONYMOUS
    route_ = call.route
    # Unauthenticated calls are counted too (as "(anonymous)", and apart by client address):
    # the sunset verdict reports them without letting a scanner keep a version alive.
    get_recorder().record(
        service=route_.service,
        version=route_.version,
        operation=route_.operation_name,
        method=call.method,
        consumer=name,
        status=answer.status,
        latency_ms=elapsed * 1000,
        client=None if call.name else call.client,
    )
    metrics.observe(route_.service, route_.version, name, answer.status, elapsed, call.failure)


def _add_lifecycle_headers(answer: Answer, headers: dict[str, str]) -> None:
    for name, value in headers.items():
        if name == "Link":
            # Keep the upstream's own relations, in one field line.
            own = [v for k, v in answer.headers if k.lower() == "link"]
            value = ", ".join([*own, value])
        answer.set_header(name, value)
