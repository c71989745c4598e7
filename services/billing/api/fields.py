"""Billing's own serializer fields: ids, money and cards (the strict basics are the kit's)."""

from rest_framework import serializers

from services.billing.processors import Card, luhn_valid
from services.kit.fields import Integer, Text
from services.kit.filters import MAX_DB_INT

MAX_AMOUNT = 10_000_000  # cents: no table runs up a bill of 100,000


class Id(Integer):
    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_DB_INT)
        super().__init__(**kwargs)


class Cents(Integer):
    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_AMOUNT)
        kwargs.setdefault("help_text", "Integer cents.")
        super().__init__(**kwargs)


class CardDetailsSerializer(serializers.Serializer):
    """A card, for the one call that charges it. Never stored, logged or echoed back: error
    messages about it never repeat what was sent."""

    number = Text(
        min_length=12,
        max_length=19,
        trim_whitespace=False,
        pattern="^[0-9]{12,19}$",
        help_text="The card number: 12 to 19 digits, no spaces.",
        error_messages={
            "min_length": "Must be 12 to 19 digits.",
            "max_length": "Must be 12 to 19 digits.",
        },
    )
    exp_month = Integer(min_value=1, max_value=12)
    exp_year = Integer(min_value=2000, max_value=2099, help_text="Four digits.")
    cvc = Text(
        min_length=3,
        max_length=4,
        trim_whitespace=False,
        pattern="^[0-9]{3,4}$",
        help_text="The 3 or 4 digit security code.",
        error_messages={
            "min_length": "Must be 3 or 4 digits.",
            "max_length": "Must be 3 or 4 digits.",
        },
    )

    def validate_number(self, value: str) -> str:
        if not value.isascii() or not value.isdigit():
            raise serializers.ValidationError("Must be 12 to 19 digits.", code="invalid")
        if not luhn_valid(value):
            raise serializers.ValidationError(
                "Not a valid card number (the check digit is wrong).", code="invalid"
            )
        return value

    def validate_cvc(self, value: str) -> str:
        if not value.isascii() or not value.isdigit():
            raise serializers.ValidationError("Must be 3 or 4 digits.", code="invalid")
        return value

    def to_internal_value(self, data) -> Card:
        values = super().to_internal_value(data)
        return Card(**values)


class CardSerializer(serializers.Serializer):
    """What is kept of a card: the brand and the last four digits."""

    brand = serializers.CharField(read_only=True, help_text="visa, mastercard, amex or unknown.")
    last4 = serializers.CharField(read_only=True)
