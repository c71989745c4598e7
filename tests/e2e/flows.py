"""Calls that cross services, shared by the end-to-end tests that need them."""

from __future__ import annotations

import uuid
from collections.abc import Callable

DECLINED_CARD = {"number": "4000000000000002", "exp_month": 12, "exp_year": 2030, "cvc": "123"}

Call = Callable[..., object]  # call(method, path, json=None, headers=None) -> requests.Response


def billing_call(call: Call) -> Callable:
    """Billing v2 calls, each with an Idempotency-Key of its own."""

    def billing(method: str, path: str, body=None):
        headers = {"Idempotency-Key": uuid.uuid4().hex}
        return call(method, f"/billing/v2{path}", json=body, headers=headers)

    return billing


def billed_order(call: Call) -> tuple[int, str]:
    """An order for one coffee, submitted and billed: its id and the amount due."""
    billing = billing_call(call)
    order = billing("POST", "/orders", {"table": "T7"})
    assert order.status_code == 201, order.text
    order_id = order.json()["id"]
    added = billing(
        "POST", f"/orders/{order_id}/items", {"items": [{"item": "coffee", "diner": "Derek"}]}
    )
    assert added.status_code == 201, added.text
    assert billing("POST", f"/orders/{order_id}/submit").status_code in (200, 201)
    bill = billing("POST", f"/orders/{order_id}/bill", {})
    assert bill.status_code in (200, 201), bill.text
    return order_id, bill.json()["due"]


def pay_with_a_declined_card(call: Call, order_id: int, amount: str):
    payment = {"method": "card", "amount": amount, "card": DECLINED_CARD}
    return billing_call(call)("POST", f"/orders/{order_id}/payments", {"payments": [payment]})


def resolve_with_promotion(call: Call, subject: str):
    """A v2 ticket about ``subject``, resolved with its answer promoted to the FAQ."""
    ticket = call(
        "POST",
        "/tickets/v2/tickets",
        json={
            "subject": subject,
            "body": "How do I export?",
            "requester": {"email": "ann@example.com", "name": "Ann"},
        },
    )
    assert ticket.status_code == 201, ticket.text
    ticket_id = ticket.json()["id"]
    return ticket_id, lambda: call(
        "POST",
        f"/tickets/v2/tickets/{ticket_id}/resolve",
        json={"answer": "Use Settings, then Export.", "promote": {"related": []}},
    )
