"""The shared cache as the hot path uses it: an outage of it never fails a call.

Redis holds the rate-limit windows, the failed-authentication counts, looked-up keys and cached
responses, and none of them is worth a 500. :class:`GuardedCache` wraps the cache backend: when
the backend raises (Redis down, refusing, or slower than its socket timeout), the operation
answers as an empty cache would (nothing found, nothing stored, a count of 0), the error is
counted (``switchyard_gateway_cache_errors_total``) and logged once per outage, and the cache is
skipped altogether for :data:`SKIP_SECONDS`: a hung Redis costs one socket timeout every few
seconds, not one on every call. So rate limits and the response cache fail open, and keys come
from the database.
"""

from __future__ import annotations

import logging
import time

from gateway import metrics

logger = logging.getLogger("switchyard.cache")

# How long the cache is left alone after an error; then the next operation tries it again.
SKIP_SECONDS = 2.0

try:
    from redis.exceptions import RedisError
except ImportError:  # pragma: no cover - redis is a dependency
    RedisError = OSError

# What a backend raises when it cannot be reached (a miss is never an error).
BACKEND_ERRORS = (RedisError, OSError, EOFError)


class GuardedCache:
    """A cache backend whose errors are answered as an empty cache would answer them."""

    def __init__(self, backend, *, skip_seconds: float = SKIP_SECONDS, clock=time.monotonic):
        self.backend = backend
        self.skip_seconds = skip_seconds
        self.clock = clock
        self._skip_until = 0.0
        self._failing = False

    @property
    def available(self) -> bool:
        """False while the cache is skipped after an error."""
        return self.clock() >= self._skip_until

    def _failed(self, operation: str, error: BaseException) -> None:
        self._skip_until = self.clock() + self.skip_seconds
        metrics.CACHE_ERRORS.labels(operation).inc()
        if not self._failing:  # once per outage; the error's class only (a URL may hold a password)
            self._failing = True
            logger.warning(
                "shared cache unavailable; calls go on without it",
                extra={"operation": operation, "error": type(error).__name__},
            )

    def _worked(self) -> None:
        if self._failing:
            self._failing = False
            logger.info("shared cache works again")

    def _call(self, operation: str, fallback, *args, **kwargs):
        if self.clock() < self._skip_until:
            return fallback
        try:
            result = getattr(self.backend, operation)(*args, **kwargs)
        except BACKEND_ERRORS as error:
            self._failed(operation, error)
            return fallback
        if self._failing:
            self._worked()
        return result

    def get(self, key, default=None):
        return self._call("get", default, key, default)

    def get_many(self, keys) -> dict:
        return self._call("get_many", {}, keys)

    def set(self, key, value, timeout=None) -> None:
        self._call("set", None, key, value, timeout)

    def add(self, key, value, timeout=None) -> bool:
        return self._call("add", False, key, value, timeout)

    def delete(self, key) -> bool:
        return self._call("delete", False, key)

    def incr(self, key, delta: int = 1) -> int:
        """The new count; 0 when the cache is unavailable (a limit counted there lets the call
        through). A missing key still raises ``ValueError``, as Django's backends do."""
        return self._call("incr", 0, key, delta)
