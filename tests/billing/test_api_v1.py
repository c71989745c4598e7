"""Billing v1: the seed's first design. Orders and items mirror the data; each payer pays their
own amount by card; the first payment bills the order with the same tally rules as v2."""

import pytest

from services.billing.models import Order, OrderItem, Payment, SandboxCharge, TicketRequest
from tests.billing.conftest import DECLINED, MASTERCARD, PROCESSING_ERROR, VISA, card
from tests.helpers import assert_problem

pytestmark = pytest.mark.django_db


def pay(send, order_id, payer, amount, number=VISA):
    body = {"order_id": order_id, "payer": payer, "amount": amount, "card": card(number)}
    return send("post", "/v1/payments", body)


def test_the_menu(api, conforms):
    body = conforms("v1", api.get("/v1/menu")).json()

    assert body["items"][0] == {"code": "salad", "name": "Garden salad", "price": 850}
    assert "bundles" not in body


def test_open_an_order(send, conforms):
    response = conforms("v1", send("post", "/v1/orders", {"table": "4"}))

    assert response.status_code == 201
    body = response.json()
    assert response["Location"] == f"/v1/orders/{body['id']}"
    assert {
        k: body[k] for k in ("table", "status", "items", "payments", "total", "paid", "due")
    } == {
        "table": "4",
        "status": "open",
        "items": [],
        "payments": [],
        "total": None,
        "paid": 0,
        "due": None,
    }


def test_add_an_item(send, make_order, conforms):
    order = make_order(items=[])

    response = conforms(
        "v1",
        send("post", f"/v1/orders/{order.pk}/items", {"item": "omelet", "diner": "Jane"}),
    )

    assert response.status_code == 201
    body = response.json()
    assert {k: v for k, v in body.items() if k != "id"} == {
        "item": "omelet",
        "name": "Omelet",
        "diner": "Jane",
        "quantity": 1,
        "price": 950,
    }
    item = OrderItem.objects.get()
    assert (item.pk, item.order_id, item.status) == (body["id"], order.pk, "pending")


def test_an_item_off_the_menu(send, make_order, conforms):
    order = make_order(items=[])

    response = send("post", f"/v1/orders/{order.pk}/items", {"item": "lobster", "diner": "Jane"})

    body = assert_problem(conforms("v1", response), 400)
    assert [(e["pointer"], e["detail"]) for e in body["errors"]] == [
        ("#/item", "'lobster' is not on the menu.")
    ]
    assert not OrderItem.objects.exists()


def test_adding_to_an_unknown_order_is_404(send, conforms):
    response = send("post", "/v1/orders/424242/items", {"item": "tea", "diner": "Jane"})

    assert_problem(conforms("v1", response), 404)


def test_retrieve(api, make_order, conforms):
    order = make_order()

    body = conforms("v1", api.get(f"/v1/orders/{order.pk}")).json()

    assert [(i["item"], i["diner"], i["price"]) for i in body["items"]] == [
        ("salad", "John", 850),
        ("juice", "John", 400),
        ("omelet", "Jane", 950),
        ("coffee", "Derek", 300),
    ]
    assert (body["status"], body["total"], body["due"]) == ("open", None, None)


def test_each_payer_pays_their_part_and_the_first_payment_bills(send, make_order, conforms):
    order = make_order()  # 2500, less Derek's coffee (free with Jane's omelet): 2200

    john = conforms("v1", pay(send, order.pk, "John", 1250))

    assert john.status_code == 201
    assert {k: v for k, v in john.json().items() if k not in {"id", "created"}} == {
        "order_id": order.pk,
        "payer": "John",
        "amount": 1250,
        "status": "captured",
        "card": {"brand": "visa", "last4": "4242"},
        "failure_code": None,
    }
    stored = Order.objects.get(pk=order.pk)
    assert (stored.status, stored.total) == ("billed", 2200)

    jane = conforms("v1", pay(send, order.pk, "Jane", 950, MASTERCARD)).json()
    read = conforms("v1", send("get", f"/v1/orders/{order.pk}")).json()

    assert jane["card"] == {"brand": "mastercard", "last4": "4444"}
    assert (read["status"], read["total"], read["paid"], read["due"]) == ("paid", 2200, 2200, 0)
    assert [(p["payer"], p["amount"], p["status"]) for p in read["payments"]] == [
        ("John", 1250, "captured"),
        ("Jane", 950, "captured"),
    ]


def test_a_declined_card_is_recorded_and_leaves_the_amount_due(send, make_order, conforms):
    order = make_order()

    declined = conforms("v1", pay(send, order.pk, "Derek", 300, DECLINED)).json()
    failed = conforms("v1", pay(send, order.pk, "Derek", 300, PROCESSING_ERROR)).json()

    assert (declined["status"], declined["failure_code"]) == ("declined", "card_declined")
    assert (failed["status"], failed["failure_code"]) == ("failed", "processing_error")
    assert Order.objects.get(pk=order.pk).due == 2200
    assert TicketRequest.objects.get().payment_id == declined["id"]
    assert SandboxCharge.objects.count() == 2


def test_paying_more_than_is_due_is_409(send, make_order, conforms):
    order = make_order()
    pay(send, order.pk, "John", 2000)

    response = pay(send, order.pk, "Jane", 201)

    assert "200 cents are due" in assert_problem(conforms("v1", response), 409)["detail"]
    assert Payment.objects.count() == 1


def test_paying_a_paid_order_is_409(send, make_order, conforms):
    order = make_order()
    pay(send, order.pk, "John", 2200)

    assert_problem(conforms("v1", pay(send, order.pk, "Jane", 1)), 409)


def test_paying_an_empty_order_is_409(send, make_order, conforms):
    order = make_order(items=[])

    response = pay(send, order.pk, "John", 100)

    assert "nothing to bill" in assert_problem(conforms("v1", response), 409)["detail"]
    assert Order.objects.get(pk=order.pk).status == "open"
    assert not SandboxCharge.objects.exists()


def test_paying_an_unknown_order_names_it(send, conforms):
    response = pay(send, 424242, "John", 100)

    body = assert_problem(conforms("v1", response), 400)
    assert [(e["pointer"], e["detail"]) for e in body["errors"]] == [
        ("#/order_id", "There is no order with id 424242.")
    ]


def test_items_cannot_be_added_once_paying_started(send, make_order, conforms):
    order = make_order()
    pay(send, order.pk, "John", 100)

    response = send("post", f"/v1/orders/{order.pk}/items", {"item": "tea", "diner": "Late"})

    assert_problem(conforms("v1", response), 409)
    assert order.items.count() == 4
