"""Caching GET responses that the upstream marks cacheable (``Cache-Control``).

``public`` (or neither) responses are shared by every consumer; ``private`` ones are kept per
consumer. ``no-store``, ``no-cache``, ``Set-Cookie`` and ``Vary: *`` are never cached.
"""

from __future__ import annotations

import hashlib
import time

from django.conf import settings
from django.core.cache import cache

from gateway.routing import Route

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
    if upstream.headers.get("Vary", "").strip() == "*":
        return None
    private = "private" in control
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
