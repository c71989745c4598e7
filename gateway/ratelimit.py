"""Per-consumer rate limits, shared by every worker and instance through the cache.

Pluggable like DRF's throttles: ``GATEWAY_RATE_LIMITER`` names a class with one hook.
"""

from __future__ import annotations

import threading
import time

from django.conf import settings
from django.utils.module_loading import import_string

from gateway.conf import hot


class RateLimiter:
    def check(self, consumer) -> int | None:
        """``None`` to let the call through, else the seconds to wait before retrying."""
        raise NotImplementedError


class WindowRateLimiter(RateLimiter):
    """Fixed one-minute windows; subclasses say where a window's calls are counted."""

    window = 60

    def check(self, consumer) -> int | None:
        limit = consumer.rate_limit_per_minute or hot().rate_limit
        if limit <= 0:
            return None
        now = time.time()
        window = int(now // self.window)
        if self.count(consumer.pk, window) <= limit:
            return None
        return max(1, int((window + 1) * self.window - now) + 1)

    def count(self, consumer: int, window: int) -> int:
        """Add this call to the consumer's window; returns the calls in it so far."""
        raise NotImplementedError


class CacheRateLimiter(WindowRateLimiter):
    """Counted in the cache every worker and instance shares (atomic ``INCR`` on Redis): the
    default when ``REDIS_URL`` is set."""

    def count(self, consumer: int, window: int) -> int:
        cache, key = hot().cache, f"gw:rl:{consumer}:{window}"
        try:
            return cache.incr(key)  # one cache operation on every call but a window's first
        except ValueError:  # no count for this window yet: open it (another worker may race)
            cache.add(key, 0, self.window + 5)
            return cache.incr(key)


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


def get_rate_limiter() -> RateLimiter:
    return import_string(settings.GATEWAY_RATE_LIMITER)()
