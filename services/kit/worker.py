"""The ``worker`` process of every app: what the Procfile's ``worker:`` line runs.

An app with an outbox names its pass in ``OUTBOX_SENDER`` (a dotted path to a callable that takes
``stop``, a function saying whether to stop, and returns a report line or ``None`` when it did
nothing). The loop runs a pass every ``WORKER_INTERVAL`` seconds. SIGTERM (a deploy, a scale-down)
or SIGINT stops it after the row in hand: a row is either sent and marked, or left for the next
worker, never lost or sent twice. An app with nothing to drain idles until it is stopped, so
scaling its worker is harmless.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Callable, Iterator

from django.db import close_old_connections

logger = logging.getLogger("switchyard.worker")

Pass = Callable[[Callable[[], bool]], "str | None"]


@contextlib.contextmanager
def stopped_by_signals() -> Iterator[threading.Event]:
    """An event set by SIGTERM or SIGINT while inside (the previous handlers come back after)."""
    stop = threading.Event()
    previous = {}
    if threading.current_thread() is threading.main_thread():  # only it may handle signals
        for number in (signal.SIGTERM, signal.SIGINT):
            previous[number] = signal.signal(number, lambda *_: stop.set())
    try:
        yield stop
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def run(one_pass: Pass, *, interval: float, stop: threading.Event, report) -> None:
    """A pass, then ``interval`` seconds of waiting, until ``stop`` is set. A pass that fails is
    logged and tried again: the database or the other service may be back by then."""
    while not stop.is_set():
        close_old_connections()  # the database may have restarted since the last pass
        try:
            line = one_pass(stop.is_set)
        except Exception:
            logger.exception("worker pass failed; trying again in %s s", interval)
        else:
            if line:
                report(line)
        stop.wait(interval)
