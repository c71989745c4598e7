"""The card processor interface and the sandbox's well-known test cards."""

import datetime as dt
import logging

import pytest

from services.billing import processors
from services.billing.models import SandboxCharge
from services.billing.processors import (
    Card,
    CardProcessor,
    ChargeResult,
    SandboxCardProcessor,
    card_brand,
    card_expired,
    luhn_valid,
)
from tests.billing.conftest import (
    CVC,
    DECLINED,
    INSUFFICIENT_FUNDS,
    MASTERCARD,
    PROCESSING_ERROR,
    UNKNOWN,
    VISA,
    a_card,
    card,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("number", "status", "code", "brand"),
    [
        (VISA, "captured", "", "visa"),
        (MASTERCARD, "captured", "", "mastercard"),
        (DECLINED, "declined", "card_declined", "visa"),
        (INSUFFICIENT_FUNDS, "declined", "insufficient_funds", "visa"),
        (PROCESSING_ERROR, "failed", "processing_error", "visa"),
        (UNKNOWN, "declined", "incorrect_number", "visa"),
        ("4242424242424241", "declined", "incorrect_number", "visa"),  # fails the Luhn check
        ("378282246310005", "declined", "incorrect_number", "amex"),  # a real test amex
    ],
)
def test_the_sandbox_cards(number, status, code, brand):
    result = SandboxCardProcessor().charge(amount=1250, card=a_card(number), reference="payment-1")

    assert (result.status, result.failure_code, result.brand) == (status, code, brand)
    assert result.last4 == number[-4:]
    assert result.processor_reference.startswith("sbx_")
    charge = SandboxCharge.objects.get()
    assert (charge.reference, charge.amount, charge.status, charge.failure_code) == (
        "payment-1",
        1250,
        status,
        code,
    )
    assert (charge.brand, charge.last4) == (brand, number[-4:])


def test_an_expired_card_is_declined():
    last_month = dt.date.today().replace(day=1) - dt.timedelta(days=1)
    expired = Card(VISA, exp_month=last_month.month, exp_year=last_month.year, cvc=CVC)

    result = SandboxCardProcessor().charge(amount=100, card=expired, reference="payment-2")

    assert (result.status, result.failure_code) == ("declined", "expired_card")


def test_a_card_is_valid_through_its_expiry_month():
    today = dt.date(2026, 11, 30)
    assert not card_expired(Card(VISA, 11, 2026, CVC), today=today)
    assert card_expired(Card(VISA, 10, 2026, CVC), today=today)
    assert card_expired(Card(VISA, 12, 2025, CVC), today=today)


def test_a_reference_is_charged_once_however_often_it_is_asked():
    sandbox = SandboxCardProcessor()

    first = sandbox.charge(amount=500, card=a_card(), reference="payment-7")
    again = sandbox.charge(amount=500, card=a_card(), reference="payment-7")

    assert again == first
    assert SandboxCharge.objects.count() == 1


def test_the_ledger_keeps_brand_and_last_four_only():
    SandboxCardProcessor().charge(amount=500, card=a_card(MASTERCARD), reference="payment-8")

    stored = SandboxCharge.objects.values().get()
    assert MASTERCARD not in repr(stored)
    assert CVC not in {str(v) for v in stored.values()}


def test_luhn():
    assert all(luhn_valid(n) for n in (VISA, MASTERCARD, DECLINED, PROCESSING_ERROR, UNKNOWN))
    assert not luhn_valid("4242424242424241")
    assert not luhn_valid("42424242424242a2")
    assert not luhn_valid("\uff14\uff12\uff14\uff12")  # fullwidth digits: not ASCII ones


def test_brands():
    assert card_brand(VISA) == "visa"
    assert card_brand("2221000000000009") == "mastercard"
    assert card_brand("371449635398431") == "amex"
    assert card_brand("6011111111111117") == "unknown"


def test_a_card_never_shows_its_number_or_code(caplog):
    secret = Card(**card(MASTERCARD))

    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info("charging %s", secret, extra={"card": secret})

    for text in (repr(secret), str(secret), f"{secret}", caplog.text):
        assert MASTERCARD not in text
        assert CVC not in text
    assert "4444" in repr(secret)


class Refusing(CardProcessor):
    def charge(self, *, amount, card, reference):
        return ChargeResult(status="declined", processor_reference="r-1", failure_code="nope")


def test_the_processor_is_chosen_by_dotted_path(settings):
    settings.BILLING_CARD_PROCESSOR = "tests.billing.test_processors.Refusing"
    processors._processor_class.cache_clear()

    assert isinstance(processors.card_processor(), Refusing)


def test_the_default_is_the_sandbox():
    assert isinstance(processors.card_processor(), SandboxCardProcessor)


def test_the_interface_must_be_implemented():
    with pytest.raises(NotImplementedError):
        CardProcessor().charge(amount=1, card=a_card(), reference="payment-1")
