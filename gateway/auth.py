"""Consumers and their keys: ``Authorization: Bearer <key>``, stored as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import secrets

from django.core.cache import cache
from django.utils import timezone

from gateway.models import Consumer

KEY_PREFIX = "sy_"
_CACHE_SECONDS = 10
_MISSING = "-"


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
    """The active consumer holding ``key``. Cached briefly: a revocation takes effect within
    seconds everywhere (at once where the cache is shared, i.e. Redis)."""
    digest = hash_key(key)
    cache_key = f"gw:key:{digest}"
    cached = cache.get(cache_key)
    if cached == _MISSING:
        return None
    if cached is not None:
        return cached
    consumer = Consumer.objects.filter(key_hash=digest, revoked_at__isnull=True).first()
    cache.set(cache_key, consumer or _MISSING, _CACHE_SECONDS)
    return consumer


def forget_key(key_hash: str) -> None:
    cache.delete(f"gw:key:{key_hash}")


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
