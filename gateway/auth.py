"""Consumers and their keys: ``Authorization: Bearer <key>``, stored as SHA-256 hashes.

Each gateway process holds the answers it looked up (a consumer, or "no such key") in memory, so
most calls cost a dict look-up. What makes that safe is the key-change marker
(:class:`~gateway.models.KeyChange`): a counter bumped in the database by every save or delete of
a consumer (its creation, rotation, revocation). A daemon thread in each process reads it every
``GATEWAY_KEY_POLL_SECONDS`` (0.5 s); when it has moved, everything held is dropped. A held answer
is only served while it is known current as of less than :data:`TRUST_SECONDS` ago: as of its own
look-up, or of the last poll that found the marker unchanged since. So a rotated or revoked key
stops working on every worker of every instance within a second of the change, with or without
Redis, and a poller that stalls (or a database that is down) makes answers expire after a second
instead of living on.

Behind the held answers is the shared cache, keyed by the marker too: an entry written before a
change is never read after it, even from a cache that is only per-process (locmem, without
Redis), which a ``manage.py consumers`` process could never clear.
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import math
import os
import secrets
import threading
import time
from typing import NamedTuple

from django.conf import settings
from django.db import close_old_connections, connection
from django.db.models import F
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from gateway.conf import hot
from gateway.models import Consumer, KeyChange

logger = logging.getLogger("switchyard.auth")

KEY_PREFIX = "sy_"
# No held answer is served unless it is known current as of less than this long ago.
TRUST_SECONDS = 1.0
# Entries in the shared cache are keyed by the marker, so they go stale only by being unreachable;
# the lifetime just bounds what a flood of made-up keys leaves there.
_CACHE_SECONDS = 10
_HELD_MAX = 10_000
_MISSING = "-"
_now = time.monotonic


class _View(NamedTuple):
    """What this process knows of the key-change marker; replaced whole, read without a lock."""

    generation: int  # moves whenever the marker did, or a consumer changed in this process
    marker: int | None  # the marker last read from the database (None: not read yet)
    confirmed: float  # when (monotonic) the read that found it began; -inf: never


_view = _View(0, None, -math.inf)
_view_lock = threading.Lock()
# key hash: (generation, known current as of (monotonic), the consumer or None)
_held: dict[str, tuple[int, float, Consumer | None]] = {}
NOT_HELD = object()


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

    From what this process holds (no look-up at all on most calls), else from the shared cache
    (under the current key-change marker, when a poll confirmed it less than a second ago), else
    from the database. A rotation or revocation, made by any process, stops the old key on every
    worker and instance within a second (:data:`TRUST_SECONDS`): each process's poller sees the
    marker move within ``GATEWAY_KEY_POLL_SECONDS`` and drops what it holds. In the process that
    made the change, at once. Starts this process's poller on first use.
    """
    held = held_consumer(key)
    if held is not NOT_HELD:
        return held
    start_poller()
    return _look_up(hash_key(key))


def held_consumer(key: str):
    """What this worker holds for ``key`` (a consumer or ``None``), or ``NOT_HELD``: then
    :func:`consumer_for_key` asks the shared cache and the database."""
    held = _held.get(hash_key(key))
    if held is not None:
        view = _view
        if held[0] == view.generation and _now() - max(held[1], view.confirmed) < TRUST_SECONDS:
            return held[2]
    return NOT_HELD


def _look_up(digest: str) -> Consumer | None:
    view = _view  # before the look-up: a change seen while it runs makes its answer stale
    now = _now()
    # The marker is the shared cache's namespace; trusted only while a poll confirms it.
    cache_key = f"gw:key:{view.marker}:{digest}" if now - view.confirmed < TRUST_SECONDS else None
    # An unavailable cache reads as empty: the key comes from the database.
    cached = hot().cache.get(cache_key) if cache_key else None
    if cached is not None:
        consumer = None if cached == _MISSING else cached
        as_of = view.confirmed
    else:
        if not connection.in_atomic_block:
            # Proxied calls run outside Django's request cycle, which would otherwise retire
            # connections past CONN_MAX_AGE or broken ones.
            close_old_connections()
        consumer = Consumer.objects.filter(key_hash=digest, revoked_at__isnull=True).first()
        as_of = now
        if cache_key:
            hot().cache.set(cache_key, consumer or _MISSING, _CACHE_SECONDS)
    if len(_held) >= _HELD_MAX:
        _held.clear()  # a flood of made-up keys must not grow the worker without bound
    _held[digest] = (view.generation, as_of, consumer)
    return consumer


# --- the key-change marker -----------------------------------------------------------------------


def read_marker() -> int:
    return KeyChange.objects.filter(pk=1).values_list("serial", flat=True).first() or 0


def poll() -> bool:
    """Read the key-change marker once; when it moved, drop everything held. True if it did."""
    global _view
    before = _view
    started = _now()
    marker = read_marker()
    with _view_lock:
        if _view.generation != before.generation:
            return False  # changed here meanwhile: the next poll decides
        if marker == before.marker:
            _view = before._replace(confirmed=started)
            return False
        _view = _View(before.generation + 1, marker, started)
        _held.clear()
        return True


def keys_changed() -> None:
    """Bump the marker (every process drops its held keys within a poll) and drop this process's
    at once. Runs on every save and delete of a consumer; call it after a bulk ``update()``."""
    bump = KeyChange.objects.filter(pk=1)
    if not bump.update(serial=F("serial") + 1, changed_at=timezone.now()):
        _, created = KeyChange.objects.get_or_create(pk=1, defaults={"serial": 1})
        if not created:  # another process made the row first: bump it after all
            bump.update(serial=F("serial") + 1, changed_at=timezone.now())
    _changed_here()


def _changed_here() -> None:
    global _view
    with _view_lock:
        view = _view
        # Unconfirmed: the shared cache is skipped until a poll has read the new marker.
        _view = _View(view.generation + 1, view.marker, -math.inf)
        _held.clear()


def _consumer_changed(sender, **kwargs) -> None:
    keys_changed()


post_save.connect(_consumer_changed, sender=Consumer, dispatch_uid="gateway.auth.saved")
post_delete.connect(_consumer_changed, sender=Consumer, dispatch_uid="gateway.auth.deleted")


class _Poller:
    def __init__(self, interval: float):
        self.interval = interval
        self.pid = os.getpid()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="key-changes", daemon=True)

    def _run(self) -> None:
        failing = False
        try:
            while True:
                started = time.monotonic()
                try:
                    poll()
                except Exception:
                    if not failing:  # once per outage, not twice a second
                        logger.exception("key-change poll failed; held keys expire in 1 s")
                    failing = True
                else:
                    if failing:
                        logger.info("key-change poll works again")
                    failing = False
                finally:
                    # Retires this thread's connection past CONN_MAX_AGE, or once it broke.
                    close_old_connections()
                wait = max(0.0, started + self.interval - time.monotonic())
                if self.stop.wait(wait):
                    return
        finally:
            connection.close()  # this thread's own


_poller: _Poller | None = None
_poller_lock = threading.Lock()


def start_poller() -> None:
    """Start this process's poller, unless it runs already (or ``GATEWAY_KEY_POLL_SECONDS`` is
    0). A forked worker starts its own."""
    global _poller
    if _poller is not None and _poller.pid == os.getpid():
        return
    interval = settings.GATEWAY_KEY_POLL_SECONDS
    if interval <= 0:
        return
    with _poller_lock:
        if _poller is None or _poller.pid != os.getpid():
            _poller = _Poller(interval)
            _poller.thread.start()


def stop_poller(timeout: float = 2.0) -> None:
    """Stop this process's poller (it closes its database connection)."""
    global _poller
    poller, _poller = _poller, None
    if poller is not None and poller.pid == os.getpid():
        poller.stop.set()
        poller.thread.join(timeout)


atexit.register(stop_poller)


def forget_all() -> None:
    """Drop what this process holds and knows of the marker (tests start from nothing)."""
    global _view
    stop_poller()
    with _view_lock:
        _view = _View(0, None, -math.inf)
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
    """A new key for ``name``; the old one stops working within a second everywhere (at once in
    this process)."""
    consumer = Consumer.objects.get(name=name, revoked_at__isnull=True)
    key = new_key()
    consumer.key_prefix, consumer.key_hash = key[:10], hash_key(key)
    consumer.rotated_at = timezone.now()
    consumer.save(update_fields=["key_prefix", "key_hash", "rotated_at"])  # bumps the marker
    return consumer, key


def consumer_revoke(*, name: str) -> Consumer:
    """End ``name``'s access: within a second everywhere (at once in this process)."""
    consumer = Consumer.objects.get(name=name, revoked_at__isnull=True)
    consumer.revoked_at = timezone.now()
    consumer.save(update_fields=["revoked_at"])  # bumps the marker
    return consumer
