"""One domain, two versions: what either version writes, the other reads back."""

import pytest

from tests.billing.conftest import DECLINED, VISA, card

pytestmark = pytest.mark.django_db


def test_an_order_made_by_v1_reads_back_through_v2(send, conforms):
    order = send("post", "/v1/orders", {"table": "9"}).json()
    for item, diner in (("omelet", "Jane"), ("coffee", "Derek")):
        send("post", f"/v1/orders/{order['id']}/items", {"item": item, "diner": diner})
    payment = send(
        "post",
        "/v1/payments",
        {"order_id": order["id"], "payer": "Jane", "amount": 500, "card": card(VISA)},
    ).json()

    v2 = conforms("v2", send("get", f"/v2/orders/{order['id']}")).json()

    assert (v2["table"], v2["status"], v2["created_at"]) == ("9", "billed", order["created"])
    # v1 has no submissions: its implicit bill took the items to the kitchen in one go.
    assert [(i["item"], i["diner"], i["status"], i["submission"]) for i in v2["items"]] == [
        ("omelet", "Jane", "submitted", 1),
        ("coffee", "Derek", "submitted", 1),
    ]
    assert v2["bill"]["total"] == 950
    assert v2["bill"]["discounts"][0]["code"] == "omelet-includes-coffee"
    assert (v2["paid"], v2["due"]) == (500, 450)
    assert [(p["id"], p["method"], p["amount"], p["card"]) for p in v2["payments"]] == [
        (payment["id"], "card", 500, {"brand": "visa", "last4": "4242"})
    ]


def test_an_order_made_by_v2_reads_back_through_v1(send, conforms):
    order = send("post", "/v2/orders", {"table": "3"}).json()
    added = send(
        "post",
        f"/v2/orders/{order['id']}/items",
        {"items": [{"item": "pancakes", "diner": "Kim", "quantity": 2}]},
    ).json()
    send("post", f"/v2/orders/{order['id']}/bill", {"discount_code": "HAPPYHOUR"})
    send(
        "post",
        f"/v2/orders/{order['id']}/payments",
        {
            "payments": [
                {"method": "cash", "amount": 400},
                {"method": "card", "amount": 600, "card": card(DECLINED)},
            ]
        },
    )

    v1 = conforms("v1", send("get", f"/v1/orders/{order['id']}")).json()

    assert (v1["table"], v1["status"], v1["created"]) == ("3", "billed", order["created_at"])
    assert v1["items"] == [
        {
            "id": added["items"][0]["id"],
            "item": "pancakes",
            "name": "Pancakes",
            "diner": "Kim",
            "quantity": 2,
            "price": 780,
        }
    ]
    assert (v1["total"], v1["paid"], v1["due"]) == (1404, 400, 1004)
    assert [(p["payer"], p["status"], p["card"], p["failure_code"]) for p in v1["payments"]] == [
        ("", "captured", None, None),
        ("", "declined", {"brand": "visa", "last4": "0002"}, "card_declined"),
    ]


def test_v1_pays_what_v2_billed(send, make_order, conforms):
    order = make_order(bill=True, discount_code="HAPPYHOUR")  # 1980
    send(
        "post",
        f"/v2/orders/{order.pk}/payments",
        {"payments": [{"method": "cash", "amount": 980}]},
    )

    paid = conforms(
        "v1",
        send(
            "post",
            "/v1/payments",
            {"order_id": order.pk, "payer": "Jane", "amount": 1000, "card": card(VISA)},
        ),
    )

    assert paid.status_code == 201
    v2 = conforms("v2", send("get", f"/v2/orders/{order.pk}")).json()
    assert (v2["status"], v2["paid"], v2["due"]) == ("paid", 1980, 0)
    # v1 bills without a discount code, but never re-bills: the v2 bill stands.
    assert v2["bill"]["discount_code"] == "HAPPYHOUR"
