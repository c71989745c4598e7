"""Per-consumer rate limits, shared by every worker and instance through the cache.

Pluggable like DRF's throttles: ``GATEWAY_RATE_LIMITER`` names a class with one hook.
"""

from __future__ import annotations

import threading
import time

from django.conf import settings
from django.core.cache.backends.locmem import LocMemCache
from django.utils.module_loading import import_string

from gateway.conf import hot


class RateLimiter:
    def check(self, consumer) -> int | None:
        """``None`` to let the call through, else the seconds to wait before retrying."""
        raise NotImplementedError


class CacheRateLimiter(RateLimiter):
    """Fixed one-minute windows counted in the cache every worker and instance shares (atomic
    ``INCR`` on Redis). Without a shared cache (local memory, which each process has for itself
    anyway) the windows are counted in this process's memory directly: the same counts, for a dict
    update instead of the cache's key checks, locking and pickling on every call."""

    window = 60

    def check(self, consumer) -> int | None:
        conf = hot()
        limit = consumer.rate_limit_per_minute or conf.rate_limit
        if limit <= 0:
            return None
        now = time.time()
        window = int(now // self.window)
        if isinstance(conf.cache, LocMemCache):
            count = _count_here(consumer.pk, window)
        else:
            count = self._count_shared(conf.cache, f"gw:rl:{consumer.pk}:{window}")
        if count <= limit:
            return None
        return max(1, int((window + 1) * self.window - now) + 1)

    def _count_shared(self, cache, key: str) -> int:
        try:
            return cache.incr(key)  # one cache operation on every call but a window's first
        except ValueError:  # no count for this window yet: open it (another worker may race)
            cache.add(key, 0, self.window + 5)
            return cache.incr(key)


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
