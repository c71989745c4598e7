"""Billing v2: the order's lifecycle, as the seed designs it: add and remove items, submit them
to the kitchen, bill once, pay in one call with several methods."""

import pytest

from services.billing.models import Order, OrderItem, Payment, SandboxCharge, TicketRequest
from tests.billing.conftest import DECLINED, INSUFFICIENT_FUNDS, MASTERCARD, VISA, card
from tests.helpers import assert_problem

pytestmark = pytest.mark.django_db


def add(send, order_id, *items, quantity=None):
    body = {
        "items": [
            {"item": item, "diner": diner, **({"quantity": quantity} if quantity else {})}
            for item, diner in items
        ]
    }
    return send("post", f"/v2/orders/{order_id}/items", body)


def test_the_menu_with_its_bundles(api, conforms):
    body = conforms("v2", api.get("/v2/menu")).json()

    assert [item["code"] for item in body["items"]] == [
        "salad",
        "juice",
        "omelet",
        "coffee",
        "pancakes",
        "tea",
        "toast",
    ]
    assert body["items"][2] == {"code": "omelet", "name": "Omelet", "price": 950}
    assert body["bundles"] == [
        {
            "code": "omelet-includes-coffee",
            "description": "Omelet includes a coffee",
            "item": "omelet",
            "free_item": "coffee",
        }
    ]


def test_open_an_order(send, conforms):
    response = conforms("v2", send("post", "/v2/orders", {"table": " 12 "}))

    assert response.status_code == 201
    body = response.json()
    assert response["Location"] == f"/v2/orders/{body['id']}"
    assert {k: body[k] for k in ("table", "status", "items", "bill", "paid", "due")} == {
        "table": "12",
        "status": "open",
        "items": [],
        "bill": None,
        "paid": 0,
        "due": None,
    }
    assert Order.objects.get().table == "12"


def test_the_location_follows_the_gateway_prefix(send):
    response = send("post", "/v2/orders", {"table": "3"}, HTTP_X_FORWARDED_PREFIX="/billing")

    assert response["Location"] == f"/billing/v2/orders/{response.json()['id']}"


def test_diners_add_items_that_wait_for_the_kitchen(send, make_order, conforms):
    order = make_order(items=[])

    response = conforms("v2", add(send, order.pk, ("salad", "John"), ("juice", "John")))

    assert response.status_code == 201
    body = response.json()
    assert body["order_id"] == order.pk
    assert [(i["item"], i["diner"], i["status"], i["submission"]) for i in body["items"]] == [
        ("salad", "John", "pending", None),
        ("juice", "John", "pending", None),
    ]
    assert [i["unit_price"] for i in body["items"]] == [850, 400]
    assert list(OrderItem.objects.values_list("id", flat=True)) == [i["id"] for i in body["items"]]


def test_quantities(send, make_order):
    order = make_order(items=[])

    response = add(send, order.pk, ("pancakes", "Kim"), quantity=3)

    assert response.json()["items"][0]["quantity"] == 3
    assert OrderItem.objects.get().quantity == 3


def test_an_item_off_the_menu_is_named(send, make_order, conforms):
    order = make_order(items=[])

    response = add(send, order.pk, ("salad", "John"), ("lobster", "John"))

    body = assert_problem(conforms("v2", response), 400)
    assert body["errors"] == [
        {
            "detail": "'lobster' is not on the menu.",
            "code": "does_not_exist",
            "pointer": "#/items/1/item",
        }
    ]
    assert not OrderItem.objects.exists()


def test_remove_a_pending_item(send, make_order):
    order = make_order()
    juice = order.items.get(menu_item__code="juice")

    response = send("delete", f"/v2/orders/{order.pk}/items/{juice.pk}")

    assert response.status_code == 204
    assert response.content == b""
    assert not OrderItem.objects.filter(pk=juice.pk).exists()
    assert order.items.count() == 3


def test_a_submitted_item_stays(send, make_order, conforms):
    order = make_order(submit=True)
    item = order.items.first()

    response = send("delete", f"/v2/orders/{order.pk}/items/{item.pk}")

    body = assert_problem(conforms("v2", response), 409)
    assert "went to the kitchen" in body["detail"]
    assert OrderItem.objects.filter(pk=item.pk).exists()


def test_an_item_of_another_order_is_not_found(send, make_order, conforms):
    order, other = make_order(), make_order()
    item = other.items.first()

    response = send("delete", f"/v2/orders/{order.pk}/items/{item.pk}")

    assert_problem(conforms("v2", response), 404)
    assert OrderItem.objects.filter(pk=item.pk).exists()


def test_submit_is_a_boundary(send, make_order, conforms):
    order = make_order(items=[("salad", "John"), ("omelet", "Jane")])

    first = conforms("v2", send("post", f"/v2/orders/{order.pk}/submit"))
    add(send, order.pk, ("coffee", "Derek"))
    order_now = conforms("v2", send("get", f"/v2/orders/{order.pk}")).json()

    assert first.status_code == 201
    submission = first.json()
    assert (submission["order_id"], submission["number"]) == (order.pk, 1)
    assert [(i["item"], i["status"], i["submission"]) for i in submission["items"]] == [
        ("salad", "submitted", 1),
        ("omelet", "submitted", 1),
    ]
    # Derek's coffee came after the boundary: it waits for the next submission.
    assert [(i["item"], i["status"]) for i in order_now["items"]] == [
        ("salad", "submitted"),
        ("omelet", "submitted"),
        ("coffee", "pending"),
    ]
    assert [s["items"] for s in order_now["submissions"]] == [
        [i["id"] for i in submission["items"]]
    ]

    second = send("post", f"/v2/orders/{order.pk}/submit").json()
    assert second["number"] == 2
    assert [i["item"] for i in second["items"]] == ["coffee"]


def test_submit_with_nothing_pending_is_409(send, make_order, conforms):
    order = make_order(submit=True)

    assert_problem(conforms("v2", send("post", f"/v2/orders/{order.pk}/submit")), 409)


def test_submit_with_an_empty_json_object(send, make_order):
    order = make_order()

    assert send("post", f"/v2/orders/{order.pk}/submit", {}).status_code == 201


def test_bill_with_bundle_and_discount(send, make_order, conforms):
    order = make_order(submit=True)

    response = conforms(
        "v2", send("post", f"/v2/orders/{order.pk}/bill", {"discount_code": "HappyHour"})
    )

    assert response.status_code == 200
    body = response.json()
    bill = body["bill"]
    assert (body["order_id"], body["status"], body["paid"], body["due"]) == (
        order.pk,
        "billed",
        0,
        1980,
    )
    assert [(line["item"], line["quantity"], line["amount"]) for line in bill["lines"]] == [
        ("salad", 1, 850),
        ("juice", 1, 400),
        ("omelet", 1, 950),
        ("coffee", 1, 300),
    ]
    assert bill["subtotal"] == 2500
    assert bill["discounts"] == [
        {
            "code": "omelet-includes-coffee",
            "description": "Omelet includes a coffee",
            "amount": 300,
        },
        {"code": "HAPPYHOUR", "description": "Happy hour: 10% off", "amount": 220},
    ]
    assert (bill["total"], bill["discount_code"]) == (1980, "HAPPYHOUR")
    stored = Order.objects.get(pk=order.pk)
    assert (stored.status, stored.total, stored.discount_code) == ("billed", 1980, "HAPPYHOUR")


def test_bill_without_a_code(send, make_order):
    order = make_order(items=[("omelet", "Jane"), ("coffee", "Jane"), ("coffee", "Derek")])

    bill = send("post", f"/v2/orders/{order.pk}/bill", {}).json()["bill"]

    assert (bill["total"], bill["discount_code"]) == (950 + 300, None)
    assert [d["code"] for d in bill["discounts"]] == ["omelet-includes-coffee"]


def test_an_unknown_discount_code_is_400(send, make_order, conforms):
    order = make_order()

    response = send("post", f"/v2/orders/{order.pk}/bill", {"discount_code": "FREEFOOD"})

    body = assert_problem(conforms("v2", response), 400)
    assert [e["pointer"] for e in body["errors"]] == ["#/discount_code"]
    assert Order.objects.get(pk=order.pk).status == "open"


def test_bill_closes_the_order(send, make_order, conforms):
    order = make_order(bill=True)
    item = order.items.first()

    for method, path, body in (
        ("post", f"/v2/orders/{order.pk}/items", {"items": [{"item": "tea", "diner": "Late"}]}),
        ("delete", f"/v2/orders/{order.pk}/items/{item.pk}", None),
        ("post", f"/v2/orders/{order.pk}/submit", None),
        ("post", f"/v2/orders/{order.pk}/bill", {}),
    ):
        problem = assert_problem(conforms("v2", send(method, path, body)), 409)
        assert problem["detail"] == f"Order {order.pk} is billed: it takes no more changes."

    assert order.items.count() == 4


def test_paying_an_open_order_is_409(send, make_order, conforms):
    order = make_order()

    response = send(
        "post", f"/v2/orders/{order.pk}/payments", {"payments": [{"method": "cash", "amount": 1}]}
    )

    assert "bill it before paying" in assert_problem(conforms("v2", response), 409)["detail"]


def test_pay_in_parts_with_a_partial_failure_then_the_rest(send, make_order, conforms):
    order = make_order(bill=True, discount_code="HAPPYHOUR")  # 1980

    first = conforms(
        "v2",
        send(
            "post",
            f"/v2/orders/{order.pk}/payments",
            {
                "payments": [
                    {"method": "card", "amount": 1000, "card": card(VISA)},
                    {"method": "cash", "amount": 500},
                    {"method": "card", "amount": 480, "card": card(DECLINED)},
                ]
            },
        ),
    )

    assert first.status_code == 201
    body = first.json()
    assert (body["order_id"], body["status"], body["total"], body["paid"], body["due"]) == (
        order.pk,
        "billed",
        1980,
        1500,
        480,
    )
    assert [
        (p["method"], p["amount"], p["status"], p["card"], p["failure_code"])
        for p in body["payments"]
    ] == [
        ("card", 1000, "captured", {"brand": "visa", "last4": "4242"}, None),
        ("cash", 500, "captured", None, None),
        ("card", 480, "declined", {"brand": "visa", "last4": "0002"}, "card_declined"),
    ]
    assert SandboxCharge.objects.count() == 2

    rest = conforms(
        "v2",
        send(
            "post",
            f"/v2/orders/{order.pk}/payments",
            {"payments": [{"method": "card", "amount": 480, "card": card(MASTERCARD)}]},
        ),
    ).json()

    assert (rest["status"], rest["paid"], rest["due"]) == ("paid", 1980, 0)
    assert [(p["status"], p["card"]["brand"]) for p in rest["payments"]] == [
        ("captured", "mastercard")
    ]
    read = conforms("v2", send("get", f"/v2/orders/{order.pk}")).json()
    assert [p["status"] for p in read["payments"]] == [
        "captured",
        "captured",
        "declined",
        "captured",
    ]
    assert (read["status"], read["paid"], read["due"]) == ("paid", 1980, 0)
    assert Order.objects.get(pk=order.pk).paid_at is not None


def test_every_card_declined_leaves_everything_due(send, make_order, conforms):
    order = make_order(bill=True)  # 2200

    body = conforms(
        "v2",
        send(
            "post",
            f"/v2/orders/{order.pk}/payments",
            {
                "payments": [
                    {"method": "card", "amount": 1100, "card": card(INSUFFICIENT_FUNDS)},
                    {"method": "card", "amount": 1100, "card": card(DECLINED)},
                ]
            },
        ),
    ).json()

    assert [p["failure_code"] for p in body["payments"]] == ["insufficient_funds", "card_declined"]
    assert (body["status"], body["paid"], body["due"]) == ("billed", 0, 2200)
    assert TicketRequest.objects.count() == 2


def test_paying_more_than_is_due_is_409_and_charges_nothing(send, make_order, conforms):
    order = make_order(bill=True)  # 2200

    response = send(
        "post",
        f"/v2/orders/{order.pk}/payments",
        {
            "payments": [
                {"method": "card", "amount": 2000, "card": card()},
                {"method": "cash", "amount": 201},
            ]
        },
    )

    problem = assert_problem(conforms("v2", response), 409)
    assert problem["detail"] == (
        f"The payments add up to 2201 cents, but 2200 cents are due on order {order.pk}."
    )
    assert not Payment.objects.exists()
    assert not SandboxCharge.objects.exists()


def test_a_paid_order_is_409(send, make_order, conforms):
    order = make_order(bill=True)
    body = {"payments": [{"method": "cash", "amount": 2200}]}
    send("post", f"/v2/orders/{order.pk}/payments", body)

    response = send("post", f"/v2/orders/{order.pk}/payments", body)

    assert "paid already" in assert_problem(conforms("v2", response), 409)["detail"]
    assert Payment.objects.count() == 1


def test_retrieve_an_order(api, make_order, conforms):
    order = make_order(items=[("omelet", "Jane"), ("coffee", "Derek")], submit=True)

    body = conforms("v2", api.get(f"/v2/orders/{order.pk}")).json()

    assert body["id"] == order.pk
    assert [(i["item"], i["diner"], i["unit_price"]) for i in body["items"]] == [
        ("omelet", "Jane", 950),
        ("coffee", "Derek", 300),
    ]
    assert [(s["number"], len(s["items"])) for s in body["submissions"]] == [(1, 2)]
    assert (body["bill"], body["due"], body["payments"]) == (None, None, [])


def test_an_unknown_order_is_404(api, conforms):
    body = assert_problem(conforms("v2", api.get("/v2/orders/424242")), 404)

    assert body["detail"] == "There is no order with id 424242."
