"""Idempotency-Key on every mutating billing call: a retried request never does the work twice,
above all never charges a card twice."""

import datetime as dt
import json
import random
from collections import defaultdict
from types import SimpleNamespace

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from services.billing.models import (
    Order,
    OrderItem,
    Payment,
    SandboxCharge,
    Submission,
    TicketRequest,
)
from services.kit.idempotency import IDEMPOTENCY, _fingerprint, purge
from services.kit.models import IdempotencyRecord
from tests.billing.conftest import DECLINED, VISA, card, concurrently
from tests.helpers import assert_problem

pytestmark = pytest.mark.django_db


def mutating_calls(orders) -> list[tuple[str, str, str, dict | None]]:
    """(version, method, path, body) of every mutating billing call, each one that would work."""
    open_order, billed, item = orders["open"], orders["billed"], orders["pending_item"]
    return [
        ("v1", "post", "/v1/orders", {"table": "1"}),
        ("v1", "post", f"/v1/orders/{open_order}/items", {"item": "tea", "diner": "Kim"}),
        (
            "v1",
            "post",
            "/v1/payments",
            {"order_id": billed, "payer": "Kim", "amount": 100, "card": card()},
        ),
        ("v2", "post", "/v2/orders", {"table": "1"}),
        (
            "v2",
            "post",
            f"/v2/orders/{open_order}/items",
            {"items": [{"item": "tea", "diner": "Kim"}]},
        ),
        ("v2", "delete", f"/v2/orders/{open_order}/items/{item}", None),
        ("v2", "post", f"/v2/orders/{open_order}/submit", None),
        ("v2", "post", f"/v2/orders/{open_order}/bill", {"discount_code": "HAPPYHOUR"}),
        (
            "v2",
            "post",
            f"/v2/orders/{billed}/payments",
            {"payments": [{"method": "card", "amount": 100, "card": card()}]},
        ),
    ]


@pytest.fixture
def orders(make_order):
    open_order = make_order()
    return {
        "open": open_order.pk,
        "pending_item": open_order.items.first().pk,
        "billed": make_order(bill=True).pk,
    }


def snapshot() -> dict:
    return {
        model.__name__: sorted(model.objects.values_list("pk", flat=True))
        for model in (Order, OrderItem, Submission, Payment, SandboxCharge, TicketRequest)
    } | {"idempotency": IdempotencyRecord.objects.count()}


def request(api, method, path, body, **headers):
    data = b"" if body is None else json.dumps(body).encode()
    content_type = "application/json" if body is not None else None
    return api.generic(method.upper(), path, data, content_type=content_type, **headers)


CALL_INDEXES = range(9)
CALL_NAMES = [
    "POST /v1/orders",
    "POST /v1/orders/{id}/items",
    "POST /v1/payments",
    "POST /v2/orders",
    "POST /v2/orders/{id}/items",
    "DELETE /v2/orders/{id}/items/{item_id}",
    "POST /v2/orders/{id}/submit",
    "POST /v2/orders/{id}/bill",
    "POST /v2/orders/{id}/payments",
]


@pytest.mark.parametrize("index", CALL_INDEXES, ids=CALL_NAMES)
def test_every_mutating_call_needs_a_key(api, orders, conforms, index):
    version, method, path, body = mutating_calls(orders)[index]
    before = snapshot()

    response = request(api, method, path, body)

    problem = assert_problem(conforms(version, response), 400, type=IDEMPOTENCY)
    assert "Idempotency-Key" in problem["detail"]
    assert snapshot() == before


@pytest.mark.parametrize("index", CALL_INDEXES, ids=CALL_NAMES)
def test_the_same_key_and_body_replay_the_first_response(api, orders, conforms, index):
    version, method, path, body = mutating_calls(orders)[index]

    first = conforms(version, request(api, method, path, body, HTTP_IDEMPOTENCY_KEY="k-1"))
    done = snapshot()
    again = conforms(version, request(api, method, path, body, HTTP_IDEMPOTENCY_KEY="k-1"))

    assert first.status_code in {200, 201, 204}, first.content
    assert (again.status_code, again.content) == (first.status_code, first.content)
    assert again.get("Location") == first.get("Location")
    assert again["Idempotent-Replayed"] == "true"
    assert snapshot() == done


@pytest.mark.parametrize("index", CALL_INDEXES, ids=CALL_NAMES)
def test_the_same_key_with_another_request_is_422(api, orders, conforms, index):
    version, method, path, body = mutating_calls(orders)[index]
    request(api, method, path, body, HTTP_IDEMPOTENCY_KEY="k-2")
    done = snapshot()
    other = {**(body or {}), "surprise": True}

    response = request(api, method, path, other, HTTP_IDEMPOTENCY_KEY="k-2")

    problem = assert_problem(conforms(version, response), 422, type=IDEMPOTENCY)
    assert "different request" in problem["detail"]
    assert snapshot() == done


@pytest.mark.parametrize("index", CALL_INDEXES, ids=CALL_NAMES)
def test_a_key_still_in_flight_is_409(api, orders, conforms, index):
    version, method, path, body = mutating_calls(orders)[index]
    data = b"" if body is None else json.dumps(body).encode()
    IdempotencyRecord.objects.create(
        scope="-",
        key="busy",
        method=method.upper(),
        path=path,
        fingerprint=_fingerprint(SimpleNamespace(method=method.upper(), path=path, body=data)),
    )
    before = snapshot()

    response = request(api, method, path, body, HTTP_IDEMPOTENCY_KEY="busy")

    assert_problem(conforms(version, response), 409, type=IDEMPOTENCY)
    assert snapshot() == before


def test_a_retried_payment_never_charges_twice(send, make_order):
    order = make_order(bill=True)
    body = {
        "payments": [
            {"method": "card", "amount": 1000, "card": card(VISA)},
            {"method": "card", "amount": 500, "card": card(DECLINED)},
        ]
    }

    responses = [
        send("post", f"/v2/orders/{order.pk}/payments", body, idempotency_key="pay-17")
        for _ in range(3)
    ]

    assert {r.status_code for r in responses} == {201}
    assert len({r.content for r in responses}) == 1
    assert SandboxCharge.objects.count() == 2
    assert Payment.objects.count() == 2
    assert TicketRequest.objects.count() == 1
    assert Order.objects.get(pk=order.pk).due == 1200


def test_a_retried_submit_replays_its_submission_and_sends_nothing_new(send, make_order):
    order = make_order(items=[("salad", "John")])
    first = send("post", f"/v2/orders/{order.pk}/submit", idempotency_key="submit-1")
    send(
        "post",
        f"/v2/orders/{order.pk}/items",
        {"items": [{"item": "coffee", "diner": "Derek"}]},
    )

    again = send("post", f"/v2/orders/{order.pk}/submit", idempotency_key="submit-1")

    assert again.content == first.content
    assert Submission.objects.count() == 1
    assert order.items.filter(status="pending").count() == 1


def test_a_refused_call_releases_its_key(send, make_order):
    order = make_order(bill=True)  # 2200
    too_much = {"payments": [{"method": "cash", "amount": 5000}]}
    enough = {"payments": [{"method": "cash", "amount": 2200}]}

    refused = send("post", f"/v2/orders/{order.pk}/payments", too_much, idempotency_key="p")
    retried = send("post", f"/v2/orders/{order.pk}/payments", enough, idempotency_key="p")

    assert (refused.status_code, retried.status_code) == (409, 201)


def test_keys_are_kept_for_at_least_24_hours(send, make_order):
    order = make_order(bill=True)
    body = {"payments": [{"method": "card", "amount": 100, "card": card()}]}
    first = send("post", f"/v2/orders/{order.pk}/payments", body, idempotency_key="day-old")
    IdempotencyRecord.objects.update(created_at=timezone.now() - dt.timedelta(hours=23, minutes=59))

    purged = purge()
    again = send("post", f"/v2/orders/{order.pk}/payments", body, idempotency_key="day-old")

    assert purged == 0
    assert again.content == first.content
    assert SandboxCharge.objects.count() == 1

    IdempotencyRecord.objects.update(created_at=timezone.now() - dt.timedelta(hours=24, minutes=1))
    assert purge() == 1


def test_stored_responses_hold_no_card_number_or_code(send, make_order):
    order = make_order(bill=True)
    number, cvc = VISA, "731"

    send(
        "post",
        f"/v2/orders/{order.pk}/payments",
        {"payments": [{"method": "card", "amount": 100, "card": card(number, cvc=cvc)}]},
    )
    send(
        "post",
        "/v1/payments",
        {"order_id": order.pk, "payer": "Jo", "amount": 100, "card": card(number, cvc=cvc)},
    )

    stored = b"".join(bytes(r.body) for r in IdempotencyRecord.objects.all())
    assert stored.count(b'"last4":"4242"') == 2
    assert number.encode() not in stored
    assert b'"cvc"' not in stored and cvc.encode() not in stored


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_200_concurrent_payments_sharing_20_keys_charge_each_key_once(make_order):
    order = make_order(items=[("pancakes", "Kim")] * 3, bill=True)  # 2340
    body = {"payments": [{"method": "card", "amount": 100, "card": card()}]}
    keys = [f"pay-{n}" for n in range(20)]
    sends = [key for key in keys for _ in range(10)]
    random.Random(17).shuffle(sends)

    def pay(key):
        return key, APIClient().post(
            f"/v2/orders/{order.pk}/payments", body, format="json", HTTP_IDEMPOTENCY_KEY=key
        )

    results = concurrently([lambda key=key: pay(key) for key in sends])

    assert [error for _, error in results if error] == []
    by_key = defaultdict(list)
    for (key, response), _ in results:
        by_key[key].append(response)
    assert SandboxCharge.objects.count() == 20
    assert Payment.objects.filter(status="captured").count() == 20
    stored = Order.objects.get(pk=order.pk)
    assert (stored.paid, stored.due) == (2000, 340)
    for key, responses in by_key.items():
        answered = [r for r in responses if r.status_code != 409]
        assert answered, f"every call with {key} was told to retry"
        assert {r.status_code for r in answered} == {201}, key
        assert len({r.content for r in answered}) == 1, key
        for response in responses:
            if response.status_code == 409:
                assert_problem(response, 409, type=IDEMPOTENCY)
