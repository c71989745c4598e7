"""Caching GET responses that the upstream marks cacheable (``Cache-Control``).

``public`` (or neither) responses are shared by every consumer; ``private`` ones (and those that
``Vary`` on the consumer header) are kept per consumer. ``no-store``, ``no-cache``, ``Set-Cookie``
and a ``Vary`` on any header the cache key does not hold (including ``*``) are never cached.
"""

from __future__ import annotations

import hashlib
import time

from django.conf import settings
from django.core.cache import cache

from gateway.routing import Route
from services.kit.gateway_trust import CONSUMER_HEADER

_VARY_ON = ("Accept", "Accept-Encoding", "Accept-Language")


def directives(value: str) -> dict[str, str | None]:
    found = {}
    for part in value.split(","):
        name, _, argument = part.strip().partition("=")
        if name:
            found[name.lower()] = argument.strip('"') or None
    return found


def _key(route: Route, request, consumer: str | None) -> str:
    parts = [route.service, route.version, route.path, request.META.get("QUERY_STRING", "")]
    parts += [request.headers.get(name, "") for name in _VARY_ON]
    parts.append(consumer or "*")
    digest = hashlib.sha256("\n".join(parts).encode()).hexdigest()
    return f"gw:resp:{digest}"


def lookup(route: Route, request, consumer: str) -> dict | None:
    if request.method != "GET":
        return None
    for owner in (consumer, None):
        entry = cache.get(_key(route, request, owner))
        if entry is not None:
            return entry
    return None


def ttl_of(upstream) -> tuple[int, bool] | None:
    """(seconds, private) when the upstream response may be cached, else ``None``."""
    control = directives(upstream.headers.get("Cache-Control", ""))
    if upstream.status_code != 200 or "no-store" in control or "no-cache" in control:
        return None
    if "set-cookie" in {name.lower() for name in upstream.headers}:
        return None
    vary = {name.strip().lower() for name in upstream.headers.get("Vary", "").split(",")}
    vary.discard("")
    private = "private" in control
    if CONSUMER_HEADER.lower() in vary:
        private = True  # varies by who calls: one entry per consumer
        vary.discard(CONSUMER_HEADER.lower())
    if vary - {name.lower() for name in _VARY_ON}:
        return None  # varies on something the key does not hold (or on everything, "*")
    raw = control.get("max-age") if private else control.get("s-maxage", control.get("max-age"))
    try:
        seconds = int(raw or 0)
    except ValueError:
        return None
    length = upstream.headers.get("Content-Length")
    if seconds <= 0 or length is None or int(length) > settings.GATEWAY_CACHE_MAX_BODY_BYTES:
        return None
    return seconds, private


def store(route, request, consumer, upstream, headers, body: bytes, ttl: tuple[int, bool]):
    seconds, private = ttl
    entry = {
        "status": upstream.status_code,
        "headers": headers,
        "body": body,
        "stored_at": time.time(),
    }
    cache.set(_key(route, request, consumer if private else None), entry, seconds)
