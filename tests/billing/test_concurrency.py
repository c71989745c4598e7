"""Several diners, one order, real concurrent connections: nothing lost, nothing twice.

PostgreSQL only: SQLite takes one writer at a time, so there is no race to lose.
"""

import random
import uuid

import pytest
from django.db import connection
from rest_framework.test import APIClient

from services.billing import services
from services.billing.errors import OrderConflict
from services.billing.models import Order, OrderItem, Payment, SandboxCharge, Submission
from tests.billing.conftest import card, concurrently

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row locks need PostgreSQL; SQLite serialises writes",
    ),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def add_through_the_api(order_id: int, diner: str):
    return APIClient().post(
        f"/v2/orders/{order_id}/items",
        {"items": [{"item": "coffee", "diner": diner}]},
        format="json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )


def test_50_concurrent_additions_leave_exactly_50_items(make_order):
    order = make_order(items=[])

    results = concurrently(
        [lambda n=n: add_through_the_api(order.pk, f"diner-{n}") for n in range(50)]
    )

    assert [error for _, error in results if error] == []
    assert [response.status_code for response, _ in results] == [201] * 50
    added = [response.json()["items"][0]["id"] for response, _ in results]
    assert sorted(OrderItem.objects.filter(order=order).values_list("id", flat=True)) == sorted(
        added
    )
    assert sorted(OrderItem.objects.values_list("diner", flat=True)) == sorted(
        f"diner-{n}" for n in range(50)
    )


def test_submit_racing_additions_loses_nothing_and_sends_nothing_twice(make_order):
    order = make_order(items=[])

    def add(n):
        [item] = services.order_items_add(
            order_id=order.pk, items=[services.NewItem(item="tea", diner=f"d{n}")]
        )
        return "added", item.pk

    def submit():
        submission = services.order_submit(order_id=order.pk)
        # What the kitchen was told, read as soon as the submission committed.
        return "submitted", (submission.number, set(submission.items.values_list("id", flat=True)))

    actions = [lambda n=n: add(n) for n in range(40)] + [submit] * 10
    random.Random(4).shuffle(actions)

    results = concurrently(actions)

    errors = [error for _, error in results if error]
    assert all(isinstance(error, OrderConflict) for error in errors), errors  # nothing pending
    added = {value for (kind, value), _ in (r for r in results if r[0]) if kind == "added"}
    sent = dict(value for (kind, value), _ in (r for r in results if r[0]) if kind == "submitted")
    assert len(added) == 40
    items = {item.pk: item for item in OrderItem.objects.filter(order=order)}
    assert set(items) == added, "an added item was lost"
    # Each submission holds exactly what it held when it was made: nothing joined it later.
    for number, ids in sent.items():
        stored = Submission.objects.get(order=order, number=number)
        assert set(stored.items.values_list("id", flat=True)) == ids
        assert ids, "an empty submission"
    assert sorted(sent) == list(range(1, len(sent) + 1))
    in_submissions = [pk for ids in sent.values() for pk in ids]
    assert len(in_submissions) == len(set(in_submissions)), "an item went to the kitchen twice"
    pending = {pk for pk, item in items.items() if item.status == "pending"}
    assert pending.isdisjoint(in_submissions)
    assert pending | set(in_submissions) == added

    # The stragglers go with the next submission, if any are left.
    if pending:
        last = services.order_submit(order_id=order.pk)
        assert set(last.items.values_list("id", flat=True)) == pending
    assert not OrderItem.objects.filter(order=order, status="pending").exists()


def test_an_item_racing_the_bill_is_on_the_bill_or_refused(make_order):
    for _ in range(5):
        order = make_order(items=[("omelet", "Jane")])

        results = concurrently(
            [
                lambda o=order: services.order_bill(order_id=o.pk),
                lambda o=order: services.order_items_add(
                    order_id=o.pk, items=[services.NewItem(item="coffee", diner="Derek")]
                ),
            ],
            workers=2,
        )

        (_, bill_error), (_, add_error) = results
        assert bill_error is None
        billed = Order.objects.get(pk=order.pk)
        if add_error is None:
            assert [line["item"] for line in billed.tally["lines"]] == ["omelet", "coffee"]
            assert billed.total == 950
        else:
            assert isinstance(add_error, OrderConflict)
            assert [line["item"] for line in billed.tally["lines"]] == ["omelet"]
            assert OrderItem.objects.filter(order=order).count() == 1
        assert not OrderItem.objects.filter(order=order, status="pending").exists()


def test_two_diners_paying_the_whole_bill_at_once_pay_it_once(make_order):
    for _ in range(5):
        order = make_order(bill=True)  # 2200
        body = {"payments": [{"method": "card", "amount": 2200, "card": card()}]}

        def pay(o=order, body=body):
            return APIClient().post(
                f"/v2/orders/{o.pk}/payments",
                body,
                format="json",
                HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
            )

        results = concurrently([pay, pay], workers=2)

        assert sorted(response.status_code for response, _ in results) == [201, 409]
        assert Payment.objects.filter(order=order).count() == 1
        assert (
            SandboxCharge.objects.filter(
                reference__in=[p.reference for p in Payment.objects.filter(order=order)]
            ).count()
            == 1
        )
        assert Order.objects.get(pk=order.pk).status == "paid"
