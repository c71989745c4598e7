"""Proof that a call came through the gateway, and on whose behalf.

The gateway signs each forwarded call with ``GATEWAY_SECRET``: an HMAC-SHA256 over the time,
method, path and consumer, sent as ``X-Switchyard-Signature: t=<unix>,v1=<hex>`` next to
``X-Switchyard-Consumer``. A service with ``GATEWAY_SECRET`` set refuses calls without a valid,
fresh signature, so nobody can reach it around the gateway or pose as another consumer.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from django.conf import settings

from services.kit import problems

CONSUMER_HEADER = "X-Switchyard-Consumer"
SIGNATURE_HEADER = "X-Switchyard-Signature"
EXEMPT_PATHS = {"/__health__"}


def _digest(secret: str, timestamp: int, method: str, path: str, consumer: str) -> str:
    message = f"{timestamp}\n{method.upper()}\n{path}\n{consumer}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, *, method: str, path: str, consumer: str, now: float | None = None) -> str:
    timestamp = int(now if now is not None else time.time())
    return f"t={timestamp},v1={_digest(secret, timestamp, method, path, consumer)}"


def verify(
    secret: str,
    header: str,
    *,
    method: str,
    path: str,
    consumer: str,
    max_age: int,
    now: float | None = None,
) -> bool:
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        return False
    now = now if now is not None else time.time()
    if abs(now - timestamp) > max_age:
        return False
    return hmac.compare_digest(given, _digest(secret, timestamp, method, path, consumer))


class GatewayTrustMiddleware:
    """With ``GATEWAY_SECRET`` set, only signed calls from the gateway reach the views.

    ``request.consumer`` is the calling consumer's name (``None`` when no secret is configured
    and the header is absent: local development without a gateway).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        consumer = request.headers.get(CONSUMER_HEADER, "")
        secret = settings.GATEWAY_SECRET
        if secret and request.path not in EXEMPT_PATHS:
            signature = request.headers.get(SIGNATURE_HEADER, "")
            if not signature or not verify(
                secret,
                signature,
                method=request.method,
                path=request.path,
                consumer=consumer,
                max_age=settings.GATEWAY_SIGNATURE_MAX_AGE,
            ):
                return problems.problem_response(
                    403,
                    type=problems.problem_type("not-through-gateway"),
                    detail="Calls must come through the gateway (missing, invalid or stale "
                    "signature).",
                )
        request.consumer = consumer or None
        return self.get_response(request)
