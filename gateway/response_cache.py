"""Caching GET responses that the upstream marks cacheable (``Cache-Control``).

``public`` (or neither) responses are shared by every consumer; ``private`` ones (and those that
``Vary`` on the consumer header) are kept per consumer. ``no-store``, ``no-cache``, ``Set-Cookie``
and a ``Vary`` on any header the cache key does not hold (including ``*``) are never cached.
"""

from __future__ import annotations

import hashlib
import time

from django.conf import settings

from gateway.conf import hot
from gateway.edge import Answer
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


def _key(route: Route, call, consumer: str | None) -> str:
    parts = [route.service, route.version, route.path, call.query]
    parts += [call.header(name.lower()) for name in _VARY_ON]
    parts.append(consumer or "*")
    digest = hashlib.sha256("\n".join(parts).encode()).hexdigest()
    return f"gw:resp:{digest}"


# Which operations this process has seen cacheable answers of, and of which kind (shared or
# private): the cache is asked only for those, so a service that never allows caching costs
# nothing here. A worker that has not stored an answer of an operation yet goes upstream, stores
# it, and reads the cache from then on.
_seen: dict[tuple[str, str, str], frozenset[bool]] = {}


def lookup(route: Route, call, consumer: str):
    """The cached answer for this GET, as a HIT, or ``None``."""
    if call.method != "GET":
        return None
    kinds = _seen.get((route.service, route.version, route.operation_name))
    if not kinds:
        return None
    keys = [_key(route, call, consumer if private else None) for private in sorted(kinds)]
    found = hot().cache.get_many(keys)  # an unavailable cache reads as empty: a MISS
    entry = next((found[key] for key in reversed(keys) if key in found), None)
    if entry is None:
        return None
    headers = [*entry["headers"], ("Age", str(int(time.time() - entry["stored_at"])))]
    headers.append(("X-Cache", "HIT"))
    return Answer(entry["status"], headers, entry["body"])


def ttl_of(upstream) -> tuple[int, bool] | None:
    """(seconds, private) when the upstream response may be cached, else ``None``."""
    if "Cache-Control" not in upstream.headers and "Vary" not in upstream.headers:
        return None  # most answers: nothing to parse
    control = directives(upstream.headers.get("Cache-Control", ""))
    if upstream.status != 200 or "no-store" in control or "no-cache" in control:
        return None
    if "Set-Cookie" in upstream.headers:
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


def maybe_store(route: Route, call, consumer: str, upstream, headers, body: bytes) -> None:
    """Keep the answer when the upstream allows it (without the gateway's own X-Cache)."""
    ttl = ttl_of(upstream)
    if ttl is None:
        return
    seconds, private = ttl
    entry = {
        "status": upstream.status,
        "headers": [(name, value) for name, value in headers if name != "X-Cache"],
        "body": body,
        "stored_at": time.time(),
    }
    hot().cache.set(_key(route, call, consumer if private else None), entry, seconds)
    operation = (route.service, route.version, route.operation_name)
    _seen[operation] = _seen.get(operation, frozenset()) | {private}


def forget_seen() -> None:
    _seen.clear()
