"""Billing v2: the order's lifecycle. Items are added and removed concurrently, submitted to the
kitchen in numbered batches, billed once (bundles and discounts), then paid in one call with
several methods, a partial failure leaving the rest due.

Breaking against v1: payments belong to the order (``POST /v2/orders/{id}/payments``, several
methods per call), an order must be billed before it is paid, items carry ``unit_price`` and
their kitchen ``status``, and timestamps are ``*_at``.
"""

from rest_framework import serializers

from services.billing.api.fields import CardDetailsSerializer, CardSerializer, Cents
from services.billing.api.v1.serializers import DINER_MAX, ITEM_CODE_MAX
from services.billing.api.v1.serializers import MenuItemSerializer as MenuItemSerializer
from services.billing.api.v1.serializers import OrderCreateSerializer as OrderCreateSerializer
from services.billing.models import PAYMENT_OUTCOMES, Order, OrderItem, Payment
from services.billing.services import MAX_QUANTITY
from services.kit.fields import BlankAsNull, Text
from services.kit.fields import Integer as IntegerField

MAX_ITEMS_PER_CALL = 20
MAX_PAYMENTS_PER_CALL = 10
DISCOUNT_CODE_MAX = 40


class BundleSerializer(serializers.Serializer):
    code = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    item = serializers.CharField(read_only=True, help_text="Each of these ordered…")
    free_item = serializers.CharField(read_only=True, help_text="…makes one of these free.")


class MenuSerializer(serializers.Serializer):
    items = MenuItemSerializer(many=True, read_only=True)
    bundles = BundleSerializer(many=True, read_only=True)


class NewItemSerializer(serializers.Serializer):
    item = Text(max_length=ITEM_CODE_MAX, help_text="A menu item's code.")
    diner = Text(max_length=DINER_MAX, help_text="Who ordered it.")
    quantity = IntegerField(min_value=1, max_value=MAX_QUANTITY, required=False, default=1)


class ItemsAddSerializer(serializers.Serializer):
    items = serializers.ListField(
        child=NewItemSerializer(), min_length=1, max_length=MAX_ITEMS_PER_CALL
    )


class ItemSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    item = serializers.CharField(source="menu_item.code", read_only=True)
    name = serializers.CharField(source="menu_item.name", read_only=True)
    diner = serializers.CharField(read_only=True)
    quantity = serializers.IntegerField(read_only=True)
    unit_price = serializers.IntegerField(
        read_only=True, help_text="Integer cents: the menu price when it was added."
    )
    status = serializers.ChoiceField(
        choices=OrderItem.Status.choices,
        read_only=True,
        help_text="`pending` until a submission takes it to the kitchen.",
    )
    submission = serializers.IntegerField(
        source="submission.number",
        read_only=True,
        allow_null=True,
        help_text="The number of the submission that took it to the kitchen.",
    )
    added_at = serializers.DateTimeField(read_only=True)


class ItemsAddedSerializer(serializers.Serializer):
    order_id = serializers.IntegerField(read_only=True)
    items = ItemSerializer(many=True, read_only=True)


class SubmissionSerializer(serializers.Serializer):
    order_id = serializers.IntegerField(read_only=True)
    number = serializers.IntegerField(read_only=True, help_text="1, 2, … within the order.")
    items = ItemSerializer(many=True, read_only=True)
    submitted_at = serializers.DateTimeField(read_only=True)


class SubmissionSummarySerializer(serializers.Serializer):
    number = serializers.IntegerField(read_only=True)
    items = serializers.ListField(
        child=serializers.IntegerField(),
        source="item_ids",
        read_only=True,
        help_text="Ids of its items.",
    )
    submitted_at = serializers.DateTimeField(read_only=True)


class LineSerializer(serializers.Serializer):
    item = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    quantity = serializers.IntegerField(read_only=True)
    unit_price = serializers.IntegerField(read_only=True, help_text="Integer cents.")
    amount = serializers.IntegerField(read_only=True, help_text="Integer cents.")


class DiscountSerializer(serializers.Serializer):
    code = serializers.CharField(read_only=True, help_text="A bundle's code or a discount code.")
    description = serializers.CharField(read_only=True)
    amount = serializers.IntegerField(read_only=True, help_text="Integer cents off.")


class BillSerializer(serializers.Serializer):
    lines = LineSerializer(many=True, read_only=True)
    subtotal = serializers.IntegerField(read_only=True, help_text="Integer cents.")
    discounts = DiscountSerializer(
        many=True, read_only=True, help_text="Bundles first, then the discount code."
    )
    total = serializers.IntegerField(read_only=True, help_text="Integer cents.")
    discount_code = serializers.CharField(read_only=True, allow_null=True)
    billed_at = serializers.DateTimeField(read_only=True)


class BillOrderSerializer(serializers.Serializer):
    discount_code = Text(
        max_length=DISCOUNT_CODE_MAX,
        required=False,
        help_text="A discount code, such as HAPPYHOUR (case-insensitive).",
    )


class PaymentSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    method = serializers.ChoiceField(choices=Payment.Method.choices, read_only=True)
    amount = serializers.IntegerField(read_only=True, help_text="Integer cents.")
    status = serializers.ChoiceField(
        choices=PAYMENT_OUTCOMES,
        read_only=True,
        help_text="`captured`: paid. `declined`: the card was refused; `failed`: the processor "
        "could not charge it. Neither charged anything.",
    )
    card = CardSerializer(read_only=True, allow_null=True)
    failure_code = BlankAsNull(
        help_text="card_declined, insufficient_funds, incorrect_number, expired_card, "
        "processing_error, …"
    )
    created_at = serializers.DateTimeField(read_only=True)


class OrderBilledSerializer(serializers.Serializer):
    order_id = serializers.IntegerField(source="id", read_only=True)
    status = serializers.ChoiceField(choices=Order.Status.choices, read_only=True)
    bill = BillSerializer(read_only=True)
    paid = serializers.IntegerField(read_only=True, help_text="Integer cents captured.")
    due = serializers.IntegerField(read_only=True, help_text="Integer cents still to pay.")


class PaymentMethodSerializer(serializers.Serializer):
    method = serializers.ChoiceField(
        choices=Payment.Method.choices,
        error_messages={"invalid_choice": "Must be card or cash."},
    )
    amount = Cents()
    card = CardDetailsSerializer(required=False, help_text="Required for a card; none for cash.")

    def validate(self, attrs: dict) -> dict:
        if attrs["method"] == Payment.Method.CARD and "card" not in attrs:
            raise serializers.ValidationError({"card": "A card payment needs the card."})
        if attrs["method"] == Payment.Method.CASH and "card" in attrs:
            raise serializers.ValidationError({"card": "A cash payment takes no card."})
        return attrs


class PayOrderSerializer(serializers.Serializer):
    payments = serializers.ListField(
        child=PaymentMethodSerializer(), min_length=1, max_length=MAX_PAYMENTS_PER_CALL
    )


class PaymentsResultSerializer(serializers.Serializer):
    order_id = serializers.IntegerField(source="order.id", read_only=True)
    status = serializers.ChoiceField(
        source="order.status", choices=Order.Status.choices, read_only=True
    )
    total = serializers.IntegerField(source="order.total", read_only=True)
    paid = serializers.IntegerField(source="order.paid", read_only=True)
    due = serializers.IntegerField(source="order.due", read_only=True)
    payments = PaymentSerializer(
        many=True, read_only=True, help_text="This call's payments, in the order sent."
    )


class OrderSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    table = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(choices=Order.Status.choices, read_only=True)
    items = ItemSerializer(many=True, read_only=True)
    submissions = SubmissionSummarySerializer(many=True, read_only=True)
    bill = BillSerializer(read_only=True, allow_null=True, help_text="`null` while open.")
    paid = serializers.IntegerField(read_only=True, help_text="Integer cents captured.")
    due = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="Integer cents still to pay, once billed."
    )
    payments = PaymentSerializer(many=True, read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
