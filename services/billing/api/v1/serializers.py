"""Billing v1: the seed's first design, mirroring the data. Orders hold items; each payer pays
their own amount by card with ``POST /v1/payments``; the first payment bills the order."""

from rest_framework import serializers

from services.billing.api.fields import CardDetailsSerializer, CardSerializer, Cents, Id
from services.billing.models import PAYMENT_OUTCOMES, Order, OrderItem, Payment
from services.billing.services import MAX_QUANTITY
from services.kit.fields import BlankAsNull, Text
from services.kit.fields import Integer as IntegerField

TABLE_MAX = Order._meta.get_field("table").max_length
DINER_MAX = OrderItem._meta.get_field("diner").max_length
PAYER_MAX = Payment._meta.get_field("payer").max_length
ITEM_CODE_MAX = 40


class MenuItemSerializer(serializers.Serializer):
    code = serializers.CharField(read_only=True, help_text="What to order it by.")
    name = serializers.CharField(read_only=True)
    price = serializers.IntegerField(read_only=True, help_text="Integer cents.")


class MenuSerializer(serializers.Serializer):
    items = MenuItemSerializer(many=True, read_only=True)


class OrderCreateSerializer(serializers.Serializer):
    table = Text(max_length=TABLE_MAX, help_text="The table's number or name.")


class ItemAddSerializer(serializers.Serializer):
    item = Text(max_length=ITEM_CODE_MAX, help_text="A menu item's code.")
    diner = Text(max_length=DINER_MAX, help_text="Who ordered it.")
    quantity = IntegerField(min_value=1, max_value=MAX_QUANTITY, required=False, default=1)


class ItemSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    item = serializers.CharField(source="menu_item.code", read_only=True)
    name = serializers.CharField(source="menu_item.name", read_only=True)
    diner = serializers.CharField(read_only=True)
    quantity = serializers.IntegerField(read_only=True)
    price = serializers.IntegerField(
        source="unit_price", read_only=True, help_text="Integer cents, each."
    )


class PaymentSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    order_id = serializers.IntegerField(read_only=True)
    payer = serializers.CharField(read_only=True)
    amount = serializers.IntegerField(read_only=True, help_text="Integer cents.")
    status = serializers.ChoiceField(
        choices=PAYMENT_OUTCOMES,
        read_only=True,
    )
    card = CardSerializer(read_only=True, allow_null=True)
    failure_code = BlankAsNull(
        help_text="Why the card was not charged: card_declined, insufficient_funds, "
        "incorrect_number, expired_card, processing_error, …"
    )
    created = serializers.DateTimeField(source="created_at", read_only=True)


class OrderSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    table = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(choices=Order.Status.choices, read_only=True)
    items = ItemSerializer(many=True, read_only=True)
    payments = PaymentSerializer(many=True, read_only=True)
    total = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="Integer cents, once the order is billed."
    )
    paid = serializers.IntegerField(read_only=True, help_text="Integer cents captured.")
    due = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="Integer cents still to pay, once billed."
    )
    created = serializers.DateTimeField(source="created_at", read_only=True)


class PaymentCreateSerializer(serializers.Serializer):
    order_id = Id()
    payer = Text(max_length=PAYER_MAX, help_text="Who pays this part.")
    amount = Cents()
    card = CardDetailsSerializer()
