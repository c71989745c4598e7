"""One pooled connection object per key (an upstream, a base URL), shared by every thread.

What the service client's ``requests`` sessions and the gateway's health-probe ``urllib3`` pools
have in common: made on first use, then found without taking a lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

_lock = threading.Lock()  # only taken to make one: rare, so one lock serves every registry


def pooled(pools: dict[str, T], key: str, make: Callable[[str], T]) -> T:
    """``pools[key]``, made with ``make(key)`` the first time; racing threads make it once."""
    pool = pools.get(key)
    if pool is None:
        with _lock:
            pool = pools.get(key)
            if pool is None:
                pool = pools[key] = make(key)
    return pool
