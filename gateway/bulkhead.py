"""A bulkhead per upstream: a bounded share of the gateway's calls in flight for each service.

A call waiting on a hung or slow service holds no thread (it is a coroutine in the worker's event
loop), but it still holds a client connection, an upstream connection and memory, and a hung
service would gather them without bound. Each upstream may have at most
``GATEWAY_UPSTREAM_CONCURRENCY`` calls in flight per worker process (100 by default, well under the
worker's 1000 connections; Envoy bounds each cluster's requests the same way); a call over it is
refused at once with 503 and ``Retry-After``, and the other services are served as usual.
"""

from __future__ import annotations

import threading


class Bulkhead:
    def __init__(self, limit: int):
        self.limit = max(1, limit)
        self._lock = threading.Lock()
        self._in_flight = 0

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def enter(self) -> bool:
        """Take a slot; ``False`` when the upstream already has its share in flight."""
        with self._lock:
            if self._in_flight >= self.limit:
                return False
            self._in_flight += 1
            return True

    def leave(self) -> None:
        with self._lock:
            self._in_flight -= 1


_bulkheads: dict[str, Bulkhead] = {}
_bulkheads_lock = threading.Lock()


def bulkhead_for(upstream: str) -> Bulkhead:
    bulkhead = _bulkheads.get(upstream)
    if bulkhead is None:
        from django.conf import settings

        with _bulkheads_lock:
            bulkhead = _bulkheads.get(upstream)
            if bulkhead is None:
                bulkhead = _bulkheads[upstream] = Bulkhead(settings.GATEWAY_UPSTREAM_CONCURRENCY)
    return bulkhead


def reset_all() -> None:
    with _bulkheads_lock:
        _bulkheads.clear()
