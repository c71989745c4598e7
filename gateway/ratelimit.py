"""Per-consumer rate limits, shared by every worker and instance through the cache, and the limit
on failed authentications per client address.

Both count calls in fixed one-minute windows (:func:`window_now`, :func:`seconds_left`,
:func:`count_in_cache`). The consumers' limiter is pluggable like DRF's throttles:
``GATEWAY_RATE_LIMITER`` names a class with one hook.
"""

from __future__ import annotations

import threading
import time

from django.conf import settings
from django.utils.module_loading import import_string

from gateway.conf import hot

WINDOW_SECONDS = 60


def window_now(seconds: int = WINDOW_SECONDS) -> tuple[int, float]:
    """The number of the fixed window of ``seconds`` this moment falls in, and the moment."""
    now = time.time()
    return int(now // seconds), now


def seconds_left(window: int, now: float, seconds: int = WINDOW_SECONDS) -> int:
    """Whole seconds (at least 1) until ``window`` ends: a ``Retry-After``."""
    return max(1, int((window + 1) * seconds - now) + 1)


def count_in_cache(cache, key: str, seconds: int = WINDOW_SECONDS) -> int:
    """Add one to ``key``'s count for a window of ``seconds``; returns the count so far. One cache
    operation (atomic ``INCR`` on Redis) on every call but a window's first."""
    try:
        return cache.incr(key)
    except ValueError:  # no count for this window yet: open it (another worker may race)
        cache.add(key, 0, seconds + 5)
        return cache.incr(key)


class RateLimiter:
    def check(self, consumer) -> int | None:
        """``None`` to let the call through, else the seconds to wait before retrying."""
        raise NotImplementedError


class WindowRateLimiter(RateLimiter):
    """Fixed one-minute windows; subclasses say where a window's calls are counted."""

    window = WINDOW_SECONDS

    def check(self, consumer) -> int | None:
        limit = consumer.rate_limit_per_minute or hot().rate_limit
        if limit <= 0:
            return None
        window, now = window_now(self.window)
        if self.count(consumer.pk, window) <= limit:
            return None
        return seconds_left(window, now, self.window)

    def count(self, consumer: int, window: int) -> int:
        """Add this call to the consumer's window; returns the calls in it so far."""
        raise NotImplementedError


class CacheRateLimiter(WindowRateLimiter):
    """Counted in the cache every worker and instance shares (atomic ``INCR`` on Redis): the
    default when ``REDIS_URL`` is set."""

    def count(self, consumer: int, window: int) -> int:
        return count_in_cache(hot().cache, f"gw:rl:{consumer}:{window}", self.window)


class MemoryRateLimiter(WindowRateLimiter):
    """Counted in this process's memory: the default without a shared cache, whose local-memory
    stand-in is per process anyway. The same counts, for a dict update instead of the cache's key
    checks, locking and pickling on every call."""

    def count(self, consumer: int, window: int) -> int:
        return _count_here(consumer, window)


_here: dict[tuple[int, int], int] = {}  # (consumer, window): calls
_here_lock = threading.Lock()


def _count_here(consumer: int, window: int) -> int:
    with _here_lock:
        count = _here.get((consumer, window), 0) + 1
        if count == 1:  # a window opens: the ones that are over are forgotten
            for over in [key for key in _here if key[1] < window]:
                del _here[over]
        _here[(consumer, window)] = count
        return count


def forget_counts() -> None:
    with _here_lock:
        _here.clear()


class NoRateLimiter(RateLimiter):
    def check(self, consumer) -> int | None:
        return None


class FailedAuthLimiter:
    """Failed authentications per client address and minute, counted in the cache (shared by every
    worker and instance with Redis; without it each process counts its own, so an address gets up
    to that many failures per worker). Counted per address only, never per consumer or key: a
    guesser can never lock a consumer out by failing with its name or key.

    ``GATEWAY_AUTH_FAILURES_PER_MINUTE`` failures are answered as they are (401); after them, the
    address's calls that would need a key look-up get 429 until the minute ends.
    """

    window = WINDOW_SECONDS

    def blocked(self, address: str) -> int | None:
        """``None`` when ``address`` may try a key, else the seconds left in its window. One cache
        read."""
        limit = hot().auth_failures
        if limit <= 0:
            return None
        window, now = window_now(self.window)
        failures = hot().cache.get(self._key(address, window))
        if failures is None or failures < limit:
            return None
        return seconds_left(window, now, self.window)

    def failed(self, address: str) -> None:
        """Count one failed authentication from ``address``: one cache operation."""
        if hot().auth_failures > 0:
            window, _ = window_now(self.window)
            count_in_cache(hot().cache, self._key(address, window), self.window)

    @staticmethod
    def _key(address: str, window: int) -> str:
        return f"gw:af:{address}:{window}"


def get_rate_limiter() -> RateLimiter:
    return import_string(settings.GATEWAY_RATE_LIMITER)()
