"""Ticket requests as the kit's outbox sends them (``OUTBOX_SENDER``: the worker's pass)."""

from __future__ import annotations

from django.conf import settings

from services.billing.models import TicketRequest
from services.kit.client import ServiceClient
from services.kit.outbox import Outbox


class TicketRequests(Outbox):
    model = TicketRequest
    service = "tickets"
    operation = "ticket_create"
    noun = "ticket request"
    retries = 1

    def client(self, version: str, *, retries: int) -> ServiceClient:
        return ServiceClient(
            self.service,
            version,
            connect_timeout=settings.BILLING_TICKETS_CONNECT_TIMEOUT,
            read_timeout=settings.BILLING_TICKETS_READ_TIMEOUT,
            retries=retries,
        )

    def answered(self, row: TicketRequest, response) -> dict:
        try:
            body = response.json()
        except ValueError:
            return {"ticket_ref": ""}
        return {"ticket_ref": str(body.get("id", ""))[:100] if isinstance(body, dict) else ""}


ticket_requests = TicketRequests()
