"""Per-consumer rate limits, shared by every worker and instance through the cache.

Pluggable like DRF's throttles: ``GATEWAY_RATE_LIMITER`` names a class with one hook.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.utils.module_loading import import_string

from gateway.conf import hot


class RateLimiter:
    def check(self, consumer) -> int | None:
        """``None`` to let the call through, else the seconds to wait before retrying."""
        raise NotImplementedError


class CacheRateLimiter(RateLimiter):
    """Fixed one-minute windows counted in the cache (atomic ``INCR`` on Redis)."""

    window = 60

    def check(self, consumer) -> int | None:
        conf = hot()
        limit = consumer.rate_limit_per_minute or conf.rate_limit
        if limit <= 0:
            return None
        now = time.time()
        window = int(now // self.window)
        key = f"gw:rl:{consumer.pk}:{window}"
        cache = conf.cache
        try:
            count = cache.incr(key)  # one cache operation on every call but a window's first
        except ValueError:  # no count for this window yet: open it (another worker may race)
            cache.add(key, 0, self.window + 5)
            count = cache.incr(key)
        if count <= limit:
            return None
        return max(1, int((window + 1) * self.window - now) + 1)


class NoRateLimiter(RateLimiter):
    def check(self, consumer) -> int | None:
        return None


def get_rate_limiter() -> RateLimiter:
    return import_string(settings.GATEWAY_RATE_LIMITER)()
