"""The tickets worker's pass: deliver pending FAQ promotions (``manage.py worker``)."""

from __future__ import annotations

from collections.abc import Callable

from services.tickets import services


def describe(run: services.DeliveryRun) -> str:
    line = (
        f"promote_pending: {run.done} delivered, {run.failed} failed, {run.pending} still pending"
    )
    if run.stopped:
        line += " (the FAQ is unreachable or busy: the rest waits for the next pass)"
    return line


def deliver_promotions(stop: Callable[[], bool]) -> str | None:
    run = services.promotion_deliver_pending(stop=stop)
    return describe(run) if run.attempted else None
