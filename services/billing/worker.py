"""The billing worker's pass: send pending ticket requests (``manage.py worker``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from services.billing import services


def describe(outcomes: Counter) -> str:
    return "ticket requests: " + ", ".join(
        f"{outcomes[s]} {s}" for s in ("sent", "pending", "refused")
    )


def send_ticket_requests(stop: Callable[[], bool]) -> str | None:
    outcomes = services.ticket_requests_send(stop=stop)
    return describe(outcomes) if outcomes else None
