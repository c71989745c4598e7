"""Orders at a table, from the first item to the last payment. Knows nothing of API versions.

Amounts are integer cents. No card number or security code is ever stored: a card payment keeps
the brand and the last four digits the processor reports, nothing else.
"""

from django.db import models

from services.kit.outbox import OutboxMessage


class MenuItem(models.Model):
    """Something a diner can order, at its current price."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    price = models.PositiveIntegerField(help_text="Cents.")
    position = models.PositiveSmallIntegerField(default=0, help_text="Order on the menu.")
    available = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class Order(models.Model):
    """One table's order. Open while diners add and remove items; billed once (closed, with its
    final tally); paid when the payments cover the bill."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        BILLED = "billed", "Billed"
        PAID = "paid", "Paid"

    table = models.CharField(max_length=20)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    discount_code = models.CharField(max_length=40, blank=True, default="")
    # The final tally, fixed when the order is billed: {lines, subtotal, discounts, total}.
    tally = models.JSONField(null=True, blank=True)
    total = models.PositiveIntegerField(null=True, blank=True, help_text="Cents, once billed.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    billed_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["status"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="open") | models.Q(total__isnull=False),
                name="billing_order_billed_has_total",
            )
        ]

    def __str__(self) -> str:
        return f"Order {self.pk} (table {self.table})"

    @property
    def paid(self) -> int:
        """Cents captured so far (from the prefetched payments when there are some)."""
        return sum(p.amount for p in self.payments.all() if p.status == Payment.Status.CAPTURED)

    @property
    def due(self) -> int | None:
        """Cents still to pay; ``None`` until the order is billed."""
        return None if self.total is None else self.total - self.paid

    @property
    def bill(self) -> dict | None:
        """The final tally and when it was made; ``None`` while the order is open."""
        if self.tally is None:
            return None
        return {
            **self.tally,
            "discount_code": self.discount_code or None,
            "billed_at": self.billed_at,
        }


class Submission(models.Model):
    """Pending items sent to the kitchen together, numbered 1, 2, … within their order."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="submissions")
    number = models.PositiveIntegerField()
    submitted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["order", "number"]
        constraints = [
            models.UniqueConstraint(fields=["order", "number"], name="billing_submission_number")
        ]

    def __str__(self) -> str:
        return f"Submission {self.number} of order {self.order_id}"

    @property
    def item_ids(self) -> list[int]:
        return sorted(item.pk for item in self.items.all())


class OrderItem(models.Model):
    """What one diner ordered: pending until a submission takes it to the kitchen."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUBMITTED = "submitted", "Submitted"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    menu_item = models.ForeignKey(MenuItem, on_delete=models.PROTECT, related_name="+")
    diner = models.CharField(max_length=100)
    quantity = models.PositiveSmallIntegerField(default=1)
    unit_price = models.PositiveIntegerField(help_text="Cents: the menu price when it was added.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    submission = models.ForeignKey(
        Submission, on_delete=models.PROTECT, null=True, blank=True, related_name="items"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(status="pending", submission__isnull=True)
                    | models.Q(status="submitted", submission__isnull=False)
                ),
                name="billing_item_submitted_iff_in_a_submission",
            ),
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="billing_item_qty"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.menu_item_id} for {self.diner}"


class Payment(models.Model):
    """One payment method's part of paying an order, and what became of it."""

    class Method(models.TextChoices):
        CARD = "card", "Card"
        CASH = "cash", "Cash"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"  # only inside the transaction that charges it
        CAPTURED = "captured", "Captured"
        DECLINED = "declined", "Declined"
        FAILED = "failed", "Failed"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    method = models.CharField(max_length=10, choices=Method.choices)
    amount = models.PositiveIntegerField(help_text="Cents.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    payer = models.CharField(max_length=100, blank=True, default="")
    card_brand = models.CharField(max_length=20, blank=True, default="")
    card_last4 = models.CharField(max_length=4, blank=True, default="")
    failure_code = models.CharField(max_length=40, blank=True, default="")
    processor_reference = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gte=1), name="billing_payment_amount")
        ]

    def __str__(self) -> str:
        return f"Payment {self.pk}: {self.method} {self.amount} {self.status}"

    @property
    def card(self) -> dict | None:
        """What is kept of the card: brand and last four digits."""
        if self.method != self.Method.CARD:
            return None
        return {"brand": self.card_brand or "unknown", "last4": self.card_last4}

    @property
    def reference(self) -> str:
        """What the processor knows this payment by: a retry of the charge is the same charge."""
        return f"payment-{self.pk}"


# What a payment can come to (``pending`` never leaves the transaction that charges it).
PAYMENT_OUTCOMES = [c for c in Payment.Status.choices if c[0] != Payment.Status.PENDING]


class TicketRequest(OutboxMessage):
    """A support ticket to open in the tickets service: an outbox row (``services.kit.outbox``),
    written in the same transaction as the declined payment, sent after the commit and retried
    until sent. Every attempt carries ``idempotency_key``, so retries open one ticket."""

    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="ticket_request")
    subject = models.CharField(max_length=200)
    body = models.TextField()
    requester = models.CharField(max_length=254)
    order_ref = models.CharField(max_length=100)
    ticket_ref = models.CharField(max_length=100, blank=True, default="")

    def __str__(self) -> str:
        return f"Ticket request {self.pk} ({self.status})"

    @property
    def payload(self) -> dict:
        """The body of ``ticket_create`` in the tickets service's v1 contract."""
        return {
            "subject": self.subject,
            "body": self.body,
            "requester": self.requester,
            "order_ref": self.order_ref,
        }


class SandboxCharge(models.Model):
    """Every charge the sandbox card processor made: its own ledger, as a real processor keeps
    one. Brand and last four only, like everything else here."""

    reference = models.CharField(max_length=100, unique=True, help_text="The merchant's reference.")
    processor_reference = models.CharField(max_length=40, unique=True)
    amount = models.PositiveIntegerField()
    status = models.CharField(max_length=10)
    failure_code = models.CharField(max_length=40, blank=True, default="")
    brand = models.CharField(max_length=20, blank=True, default="")
    last4 = models.CharField(max_length=4, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.processor_reference}: {self.amount} {self.status}"
