"""FAQ promotions as the kit's outbox sends them (``OUTBOX_SENDER``: the worker's pass)."""

from __future__ import annotations

from services.kit.outbox import Outbox
from services.tickets.models import FaqPromotion


class Promotions(Outbox):
    model = FaqPromotion
    service = "faq"
    operation = "faq_create"
    noun = "promotion"

    def version(self, row: FaqPromotion) -> str:
        return row.faq_version

    def answered(self, row: FaqPromotion, response) -> dict:
        return {"faq_entry_id": int(response.json()["id"])}


promotions = Promotions()
