"""Consumers and their keys: ``Authorization: Bearer <key>``, stored as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import secrets
import time

from django.core.cache import cache
from django.db import close_old_connections, connection
from django.utils import timezone

from gateway.models import Consumer

KEY_PREFIX = "sy_"
_CACHE_SECONDS = 10
_HELD_SECONDS = 1.0
_HELD_MAX = 10_000
_MISSING = "-"
_held: dict[str, tuple[float, Consumer | None]] = {}


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def bearer_token(authorization: str) -> str | None:
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 200:
        return None
    return token


def consumer_for_key(key: str) -> Consumer | None:
    """The active consumer holding ``key``.

    Held for a second in the worker's memory (no lookup at all on most calls), behind it for
    ``_CACHE_SECONDS`` in the shared cache, behind that the database. A rotation or revocation
    clears both here at once; other workers let go of the old answer within a second where the
    cache is shared (Redis), and within ``_CACHE_SECONDS`` otherwise.
    """
    held = held_consumer(key)
    return _look_up(hash_key(key)) if held is NOT_HELD else held


def held_consumer(key: str):
    """What this worker holds for ``key`` (a consumer or ``None``), or ``NOT_HELD``: then
    :func:`consumer_for_key` asks the shared cache and the database."""
    held = _held.get(hash_key(key))
    if held is not None and held[0] > time.monotonic():
        return held[1]
    return NOT_HELD


NOT_HELD = object()


def _look_up(digest: str) -> Consumer | None:
    now = time.monotonic()
    consumer = _shared_lookup(digest)
    if len(_held) >= _HELD_MAX:
        _held.clear()  # a flood of made-up keys must not grow the worker without bound
    _held[digest] = (now + _HELD_SECONDS, consumer)
    return consumer


def _shared_lookup(digest: str) -> Consumer | None:
    cache_key = f"gw:key:{digest}"
    cached = cache.get(cache_key)
    if cached == _MISSING:
        return None
    if cached is not None:
        return cached
    if not connection.in_atomic_block:
        # Proxied calls run outside Django's request cycle, which would otherwise retire
        # connections past CONN_MAX_AGE or broken ones.
        close_old_connections()
    consumer = Consumer.objects.filter(key_hash=digest, revoked_at__isnull=True).first()
    cache.set(cache_key, consumer or _MISSING, _CACHE_SECONDS)
    return consumer


def forget_key(key_hash: str) -> None:
    _held.pop(key_hash, None)
    cache.delete(f"gw:key:{key_hash}")


def forget_all() -> None:
    """Drop what this worker holds (tests start from nothing)."""
    _held.clear()


def consumer_create(
    *,
    name: str,
    owner: str,
    contact: str,
    platform: bool = False,
    rate_limit_per_minute: int | None = None,
) -> tuple[Consumer, str]:
    key = new_key()
    consumer = Consumer(
        name=name,
        owner=owner,
        contact=contact,
        key_prefix=key[:10],
        key_hash=hash_key(key),
        is_platform=platform,
        rate_limit_per_minute=rate_limit_per_minute,
    )
    consumer.full_clean()
    consumer.save()
    return consumer, key


def consumer_rotate(*, name: str) -> tuple[Consumer, str]:
    consumer = Consumer.objects.get(name=name, revoked_at__isnull=True)
    old_hash = consumer.key_hash
    key = new_key()
    consumer.key_prefix, consumer.key_hash = key[:10], hash_key(key)
    consumer.rotated_at = timezone.now()
    consumer.save(update_fields=["key_prefix", "key_hash", "rotated_at"])
    forget_key(old_hash)
    return consumer, key


def consumer_revoke(*, name: str) -> Consumer:
    consumer = Consumer.objects.get(name=name, revoked_at__isnull=True)
    consumer.revoked_at = timezone.now()
    consumer.save(update_fields=["revoked_at"])
    forget_key(consumer.key_hash)
    return consumer
