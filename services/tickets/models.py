from django.db import models

from services.kit.outbox import OutboxMessage


class Ticket(models.Model):
    """One support request and where it stands. Knows nothing of API versions."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        PENDING = "pending", "Waiting for the requester"
        RESOLVED = "resolved", "Resolved"
        CLOSED = "closed", "Closed"

    subject = models.CharField(max_length=200)
    body = models.TextField()
    requester_email = models.EmailField(max_length=254)
    requester_name = models.CharField(max_length=200, blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    order_ref = models.CharField(
        max_length=64, blank=True, default="", help_text="The billing order it is about, if any."
    )
    answer = models.TextField(blank=True, default="", help_text="Given when it was resolved.")
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["status"]),
            models.Index(fields=["requester_email"]),
            models.Index(fields=["order_ref"]),
            models.Index(fields=["created_at"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject[:60]}"

    @property
    def promotion_or_none(self) -> "FaqPromotion | None":
        try:
            return self.promotion
        except FaqPromotion.DoesNotExist:
            return None


class Comment(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="comments")
    author = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.author} on #{self.ticket_id}"


class PromotionStatus(models.TextChoices):
    """A promotion's state as the tickets API has always published it (the outbox's ``sent`` is
    ``done`` there)."""

    PENDING = "pending", "Waiting to be delivered"
    DONE = "done", "In the FAQ"
    FAILED = "failed", "Refused by the FAQ"


class FaqPromotion(OutboxMessage):
    """A resolved ticket's answer on its way to the FAQ: an outbox row (``services.kit.outbox``).

    Written in the same transaction as the resolution, so a resolution is never lost nor a
    promotion recorded for a resolution that did not happen; sent after the commit and, while
    the FAQ is unreachable, by the worker. The payload is fixed when the row is written and sent
    with the same ``Idempotency-Key`` every time, so a retry after a lost response replays the
    FAQ's first answer instead of creating a second entry.
    """

    class FaqVersion(models.TextChoices):
        V1 = "v1", "FAQ v1"
        V2 = "v2", "FAQ v2"

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="promotion")
    faq_version = models.CharField(max_length=4, choices=FaqVersion.choices)
    payload = models.JSONField(help_text="The faq_create request body, exactly as sent.")
    faq_entry_id = models.BigIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"promotion of #{self.ticket_id} ({self.status})"

    @property
    def api_status(self) -> str:
        return PromotionStatus.DONE if self.status == self.Status.SENT else self.status

    @property
    def delivered_at(self):
        """The API's name for ``sent_at``."""
        return self.sent_at
