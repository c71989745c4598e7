import datetime as dt

from services.kit.outbox import Outbox
from tests.kit.app.models import Note


class Notes(Outbox):
    model = Note
    service = "faq"
    operation = "faq_create"
    api_version = "v2"
    noun = "note"
    backoff_base = dt.timedelta(seconds=10)
    backoff_cap = dt.timedelta(seconds=60)

    def answered(self, row: Note, response) -> dict:
        return {"entry_id": int(response.json()["id"])}


notes = Notes()
