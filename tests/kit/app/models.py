"""An outbox of the tests' own: notes that become FAQ entries (any provider contract would do)."""

from django.db import models

from services.kit.outbox import OutboxMessage


class Note(OutboxMessage):
    question = models.CharField(max_length=200)
    entry_id = models.BigIntegerField(null=True, blank=True)

    @property
    def payload(self) -> dict:
        return {"question": self.question, "source": {"kind": "ticket", "ref": str(self.pk)}}
