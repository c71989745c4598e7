"""No card number or security code is stored anywhere: not in the database (the ledger, the
idempotent responses, the ticket outbox), not in the logs, not in a problem document.

Every way a card can reach billing is exercised, then the whole database is dumped and searched.
"""

import json
import logging
import re

import pytest
import responses
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from services.billing.models import Payment, SandboxCharge, TicketRequest
from tests.billing.conftest import (
    DECLINED,
    INSUFFICIENT_FUNDS,
    MASTERCARD,
    PROCESSING_ERROR,
    UNKNOWN,
    VISA,
    card,
)

pytestmark = pytest.mark.django_db

NUMBERS = [VISA, MASTERCARD, DECLINED, INSUFFICIENT_FUNDS, PROCESSING_ERROR, UNKNOWN]
BAD_LUHN = "4242424242424241"
CVCS = ["987", "6543"]


def database_dump() -> str:
    """Every row of every table, as text (binary columns decoded), the way a dump would show it."""
    lines = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            for row in cursor.fetchall():
                values = [
                    bytes(v).decode("utf-8", "replace") if isinstance(v, bytes | memoryview) else v
                    for v in row
                ]
                lines.append(f"{table}: {values!r}")
    return "\n".join(lines)


def leaks(text: str, *, names: bool = True) -> list[str]:
    """Card numbers and codes in ``text``: a code counts only as a number of its own, and with
    ``names`` the very name of the member counts too (a problem's pointer may name it)."""
    found = [number for number in (*NUMBERS, BAD_LUHN) if number in text]
    found += [cvc for cvc in CVCS if re.search(rf"(?<![0-9A-Za-z]){cvc}(?![0-9A-Za-z])", text)]
    if names and re.search(r"\bcvc\b|\bcvv\b", text, re.IGNORECASE):
        found.append("a cvc member")
    return found


@pytest.fixture
def every_card_path(send, make_order, settings):
    """Pay with every sandbox card, through both versions, with retries, refusals and invalid
    cards, and deliver the ticket requests; returns what the client saw."""
    settings.TICKETS_API = "http://tickets.test"
    seen = []

    def keep(response):
        seen.append(response)
        return response

    billed = make_order(items=[("pancakes", "Kim")] * 10, bill=True)  # 7800
    v1_order = make_order()
    payments = [
        {"method": "card", "amount": 100 + n, "card": card(number, cvc=CVCS[n % 2])}
        for n, number in enumerate(NUMBERS)
    ]
    body = {"payments": [*payments, {"method": "cash", "amount": 300}]}
    path = f"/v2/orders/{billed.pk}/payments"
    keep(send("post", path, body, idempotency_key="every-card"))
    keep(send("post", path, body, idempotency_key="every-card"))  # replayed
    keep(send("post", path, {**body, "tip": 1}, idempotency_key="every-card"))  # 422
    for number in NUMBERS:
        keep(
            send(
                "post",
                "/v1/payments",
                {"order_id": v1_order.pk, "payer": "Jo", "amount": 110, "card": card(number)},
            )
        )
    # Refused before anything is charged: invalid cards, and more than is due.
    invalid = [
        card(BAD_LUHN),
        card(VISA, exp_month=13),
        card(VISA, cvc="98x"),
        card(VISA[:-1] + " "),
        {"number": VISA, "cvc": CVCS[0]},
        card(VISA, cvc=CVCS[0], exp_year="2030"),
    ]
    for details in invalid:
        keep(send("post", path, {"payments": [{"method": "card", "amount": 5, "card": details}]}))
        keep(
            send(
                "post",
                "/v1/payments",
                {"order_id": v1_order.pk, "payer": "Jo", "amount": 5, "card": details},
            )
        )
    keep(send("post", path, {"payments": [{"method": "cash", "amount": 9, "card": card()}]}))
    keep(send("post", path, {"payments": [{"method": "card", "amount": 99999, "card": card()}]}))
    keep(send("post", path, b'{"payments": [{"card": {"number": "' + VISA.encode() + b'"'))
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, "http://tickets.test/v1/tickets", status=503)
        call_command("send_ticket_requests", stdout=_Null())
        mock.replace(responses.POST, "http://tickets.test/v1/tickets", status=201, json={"id": 1})
        call_command("send_ticket_requests", stdout=_Null())
        sent_to_tickets = [call.request.body for call in mock.calls]
    return seen, sent_to_tickets


def test_the_paths_were_really_taken(every_card_path):
    seen, sent_to_tickets = every_card_path

    statuses = [response.status_code for response in seen]
    assert statuses[:3] == [201, 201, 422]
    assert statuses.count(400) >= 12 and 409 in statuses
    assert Payment.objects.filter(status="captured", method="card").count() == 4
    assert SandboxCharge.objects.count() == 12
    assert set(Payment.objects.values_list("card_last4", flat=True)) >= {n[-4:] for n in NUMBERS}
    # Declined: card_declined, insufficient_funds, incorrect_number; through v2, then v1.
    assert TicketRequest.objects.filter(status="sent").count() == 6
    assert len(sent_to_tickets) >= 12


def test_no_card_number_or_code_is_in_the_database(every_card_path):
    dump = database_dump()

    assert "billing_payment" in dump and "kit_idempotencyrecord" in dump  # the dump sees them
    assert leaks(dump) == []


def test_no_card_number_or_code_reaches_the_database_at_all(send, make_order):
    order = make_order(bill=True)

    with CaptureQueriesContext(connection) as queries:
        send(
            "post",
            f"/v2/orders/{order.pk}/payments",
            {"payments": [{"method": "card", "amount": 120, "card": card(DECLINED, cvc="987")}]},
        )

    statements = "\n".join(query["sql"] for query in queries.captured_queries)
    assert "billing_sandboxcharge" in statements
    assert leaks(statements) == []


def test_no_card_number_or_code_is_logged(send, make_order, caplog):
    order = make_order(bill=True)

    with caplog.at_level(logging.DEBUG):
        for number in NUMBERS:
            send(
                "post",
                f"/v2/orders/{order.pk}/payments",
                {"payments": [{"method": "card", "amount": 10, "card": card(number, cvc="987")}]},
            )

    assert "payment" in caplog.text
    assert leaks(caplog.text) == []
    # Every field of every record, but the clock's and the process's numbers: "msecs": 987.4
    # would read as the code.
    clock = {"created", "msecs", "relativeCreated", "thread", "process", "duration_ms"}
    fields = [{k: v for k, v in r.__dict__.items() if k not in clock} for r in caplog.records]
    assert leaks(json.dumps(fields, default=str)) == []


def test_no_card_number_or_code_is_in_any_response(every_card_path):
    seen, sent_to_tickets = every_card_path

    for response in seen:
        assert leaks(response.content.decode(), names=False) == [], response.content
    for body in sent_to_tickets:
        assert leaks(body.decode()) == [], body


class _Null:
    def write(self, text):
        pass

    def flush(self):
        pass
