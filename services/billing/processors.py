"""Card processors: a small interface, chosen by a dotted path (``BILLING_CARD_PROCESSOR``).

A processor gets the card for the one call that charges it and hands back what billing may keep:
the outcome, its own reference, the brand and the last four digits. The card itself goes nowhere
else: ``Card`` hides its number and code from ``repr`` (logs, tracebacks, debuggers).
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets
from dataclasses import dataclass, field
from typing import Literal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

ChargeStatus = Literal["captured", "declined", "failed"]


@dataclass(frozen=True)
class Card:
    number: str = field(repr=False)
    exp_month: int
    exp_year: int
    cvc: str = field(repr=False)

    @property
    def last4(self) -> str:
        return self.number[-4:]

    def __repr__(self) -> str:
        return f"Card(**** {self.last4}, {self.exp_month:02d}/{self.exp_year})"

    __str__ = __repr__


@dataclass(frozen=True)
class ChargeResult:
    status: ChargeStatus
    processor_reference: str = ""
    brand: str = ""
    last4: str = ""
    failure_code: str = ""  # card_declined, insufficient_funds, processing_error, …


class CardProcessor:
    """Charge ``amount`` cents to ``card``. ``reference`` is the merchant's own name for this
    charge: a processor must charge a reference at most once, so a retry never charges twice."""

    def charge(self, *, amount: int, card: Card, reference: str) -> ChargeResult:
        raise NotImplementedError


def luhn_valid(number: str) -> bool:
    if not number.isascii() or not number.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def card_brand(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number[:2] in {"51", "52", "53", "54", "55"} or "2221" <= number[:4] <= "2720":
        return "mastercard"
    if number[:2] in {"34", "37"}:
        return "amex"
    return "unknown"


def card_expired(card: Card, *, today: dt.date | None = None) -> bool:
    today = today or timezone.now().date()
    return (card.exp_year, card.exp_month) < (today.year, today.month)


class SandboxCardProcessor(CardProcessor):
    """The well-known test cards, and nobody's money. Every charge goes into ``SandboxCharge``.

    4242424242424242 (visa) and 5555555555554444 (mastercard) are captured; 4000000000000002 is
    declined (``card_declined``), 4000000000009995 too (``insufficient_funds``); 4000000000000119
    fails (``processing_error``). An expired card is declined (``expired_card``); any other
    number, or one that fails the Luhn check, is declined as ``incorrect_number``.
    """

    OUTCOMES: dict[str, tuple[ChargeStatus, str]] = {
        "4242424242424242": ("captured", ""),
        "5555555555554444": ("captured", ""),
        "4000000000000002": ("declined", "card_declined"),
        "4000000000009995": ("declined", "insufficient_funds"),
        "4000000000000119": ("failed", "processing_error"),
    }

    def charge(self, *, amount: int, card: Card, reference: str) -> ChargeResult:
        from services.billing.models import SandboxCharge

        existing = SandboxCharge.objects.filter(reference=reference).first()
        if existing is not None:
            return self._result(existing)  # the same charge, asked for again
        if not luhn_valid(card.number):
            status, code = "declined", "incorrect_number"
        elif card_expired(card):
            status, code = "declined", "expired_card"
        else:
            status, code = self.OUTCOMES.get(card.number, ("declined", "incorrect_number"))
        try:
            with transaction.atomic():
                charge = SandboxCharge.objects.create(
                    reference=reference,
                    processor_reference=f"sbx_{secrets.token_hex(12)}",
                    amount=amount,
                    status=status,
                    failure_code=code,
                    brand=card_brand(card.number),
                    last4=card.last4,
                )
        except IntegrityError:  # the same reference, charged concurrently
            charge = SandboxCharge.objects.get(reference=reference)
        return self._result(charge)

    @staticmethod
    def _result(charge) -> ChargeResult:
        return ChargeResult(
            status=charge.status,
            processor_reference=charge.processor_reference,
            brand=charge.brand,
            last4=charge.last4,
            failure_code=charge.failure_code,
        )


@functools.cache
def _processor_class(dotted: str) -> type[CardProcessor]:
    return import_string(dotted)


def card_processor() -> CardProcessor:
    return _processor_class(settings.BILLING_CARD_PROCESSOR)()
