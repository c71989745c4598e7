"""A circuit breaker per upstream: fail fast while it is down, probe it to recover.

Closed: calls go through; after ``GATEWAY_BREAKER_FAILURES`` connection failures in a row it
opens. Open: calls fail at once (503) for ``GATEWAY_BREAKER_RESET_SECONDS``. Then half-open: one
call probes the upstream; success closes the breaker, failure opens it again. State is per worker
process: each finds out for itself within a few calls, with no shared store on the hot path.
"""

from __future__ import annotations

import threading
import time

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half-open"


class CircuitBreaker:
    def __init__(self, failures: int, reset_seconds: float, clock=time.monotonic):
        self.threshold = failures
        self.reset_seconds = reset_seconds
        self.clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False

    @property
    def state(self) -> str:
        with self._lock:
            return self._state()

    def _state(self) -> str:
        if self._opened_at is None:
            return CLOSED
        if self.clock() - self._opened_at >= self.reset_seconds:
            return HALF_OPEN
        return OPEN

    def allow(self) -> float | None:
        """``None`` when the call may go ahead, else seconds until the next probe."""
        with self._lock:
            state = self._state()
            if state == CLOSED:
                return None
            if state == HALF_OPEN and not self._probing:
                self._probing = True
                return None
            remaining = self.reset_seconds - (self.clock() - (self._opened_at or 0))
            return max(remaining, 0.0)

    def succeeded(self) -> None:
        with self._lock:
            self._failures = 0
            self._opened_at = None
            self._probing = False

    def failed(self) -> None:
        with self._lock:
            self._failures += 1
            if self._probing or self._failures >= self.threshold:
                self._opened_at = self.clock()
            self._probing = False


_breakers: dict[str, CircuitBreaker] = {}
_breakers_lock = threading.Lock()


def breaker_for(upstream: str) -> CircuitBreaker:
    from django.conf import settings

    with _breakers_lock:
        breaker = _breakers.get(upstream)
        if breaker is None:
            breaker = _breakers[upstream] = CircuitBreaker(
                settings.GATEWAY_BREAKER_FAILURES, settings.GATEWAY_BREAKER_RESET_SECONDS
            )
        return breaker


def reset_all() -> None:
    with _breakers_lock:
        _breakers.clear()
