"""Billing's write layer, independent of any API version: the order's lifecycle."""

import pytest
from django.core.exceptions import ValidationError

from services.billing import services
from services.billing.errors import OrderConflict
from services.billing.models import (
    MenuItem,
    Order,
    OrderItem,
    Payment,
    SandboxCharge,
    Submission,
    TicketRequest,
)
from services.billing.processors import CardProcessor
from services.billing.services import NewItem, PaymentRequest
from tests.billing.conftest import DECLINED, PROCESSING_ERROR, VISA, a_card

pytestmark = pytest.mark.django_db


def card_payment(amount: int, number: str = VISA) -> PaymentRequest:
    return PaymentRequest(method="card", amount=amount, card=a_card(number))


def cash(amount: int) -> PaymentRequest:
    return PaymentRequest(method="cash", amount=amount)


# -- Items --------------------------------------------------------------------------------------


def test_items_are_pending_at_the_menu_price_of_the_moment(make_order):
    order = make_order(items=[])
    [omelet] = services.order_items_add(
        order_id=order.pk, items=[NewItem(item="omelet", diner="Jane", quantity=2)]
    )
    MenuItem.objects.filter(code="omelet").update(price=990)

    [later] = services.order_items_add(order_id=order.pk, items=[NewItem("omelet", "Jane")])

    assert (omelet.unit_price, omelet.quantity, omelet.diner) == (950, 2, "Jane")
    assert later.unit_price == 990
    assert set(OrderItem.objects.values_list("status", flat=True)) == {"pending"}


def test_an_item_not_on_the_menu_adds_nothing(make_order):
    order = make_order(items=[])
    MenuItem.objects.filter(code="tea").update(available=False)

    for code in ("lobster", "tea"):
        with pytest.raises(ValidationError) as error:
            services.order_items_add(
                order_id=order.pk, items=[NewItem("salad", "John"), NewItem(code, "John")]
            )
        assert error.value.message_dict == {"item": [f"{code!r} is not on the menu."]}

    assert OrderItem.objects.count() == 0


def test_an_order_holds_a_bounded_number_of_items(make_order):
    order = make_order(items=[])
    services.order_items_add(
        order_id=order.pk, items=[NewItem("tea", "T")] * services.MAX_ITEMS_PER_ORDER
    )

    with pytest.raises(OrderConflict):
        services.order_items_add(order_id=order.pk, items=[NewItem("tea", "T")])


def test_adding_to_an_unknown_order_is_does_not_exist():
    with pytest.raises(Order.DoesNotExist, match=r"There is no order with id 424242\."):
        services.order_items_add(order_id=424242, items=[NewItem("tea", "T")])


def test_a_pending_item_can_be_removed(make_order):
    order = make_order()
    john_juice = order.items.get(menu_item__code="juice")

    services.order_item_remove(order_id=order.pk, item_id=john_juice.pk)

    assert sorted(order.items.values_list("menu_item__code", flat=True)) == [
        "coffee",
        "omelet",
        "salad",
    ]


def test_a_submitted_item_cannot_be_removed(make_order):
    order = make_order(submit=True)
    item = order.items.first()

    with pytest.raises(OrderConflict, match="went to the kitchen with submission 1"):
        services.order_item_remove(order_id=order.pk, item_id=item.pk)

    assert order.items.count() == 4


def test_an_item_of_another_order_is_not_found(make_order):
    order, other = make_order(), make_order()

    with pytest.raises(OrderItem.DoesNotExist):
        services.order_item_remove(order_id=order.pk, item_id=other.items.first().pk)

    assert other.items.count() == 4


# -- Submissions --------------------------------------------------------------------------------


def test_submit_sends_every_pending_item_as_one_numbered_submission(make_order):
    order = make_order(items=[("salad", "John"), ("juice", "John")])
    first = services.order_submit(order_id=order.pk)
    services.order_items_add(order_id=order.pk, items=[NewItem("omelet", "Jane")])

    second = services.order_submit(order_id=order.pk)

    assert (first.number, second.number) == (1, 2)
    assert sorted(first.items.values_list("menu_item__code", flat=True)) == ["juice", "salad"]
    assert list(second.items.values_list("menu_item__code", flat=True)) == ["omelet"]
    assert not order.items.filter(status="pending").exists()


def test_submitting_nothing_is_a_conflict(make_order):
    order = make_order(submit=True)

    with pytest.raises(OrderConflict, match="no pending items"):
        services.order_submit(order_id=order.pk)

    assert Submission.objects.count() == 1


# -- The bill -----------------------------------------------------------------------------------


def test_bill_closes_the_order_with_the_final_tally(make_order):
    order = make_order(submit=True)

    billed = services.order_bill(order_id=order.pk, discount_code="happyhour")

    assert billed.status == "billed"
    assert billed.billed_at is not None
    assert billed.discount_code == "HAPPYHOUR"
    assert billed.total == 1980
    assert billed.tally["subtotal"] == 2500
    assert [d["amount"] for d in billed.tally["discounts"]] == [300, 220]


def test_bill_takes_pending_items_to_the_kitchen_too(make_order):
    order = make_order(items=[("salad", "John")], submit=True)
    services.order_items_add(order_id=order.pk, items=[NewItem("coffee", "Derek")])

    billed = services.order_bill(order_id=order.pk)

    assert billed.total == 850 + 300
    assert list(order.submissions.values_list("number", flat=True)) == [1, 2]
    assert not order.items.filter(status="pending").exists()


def test_a_billed_order_takes_no_more_changes(make_order):
    order = make_order(bill=True)
    item = order.items.first()

    for change in (
        lambda: services.order_items_add(order_id=order.pk, items=[NewItem("tea", "Late")]),
        lambda: services.order_item_remove(order_id=order.pk, item_id=item.pk),
        lambda: services.order_submit(order_id=order.pk),
        lambda: services.order_bill(order_id=order.pk),
    ):
        with pytest.raises(OrderConflict, match="is billed"):
            change()

    assert order.items.count() == 4


def test_an_empty_order_cannot_be_billed(make_order):
    order = make_order(items=[])

    with pytest.raises(OrderConflict, match="nothing to bill"):
        services.order_bill(order_id=order.pk)

    assert Order.objects.get(pk=order.pk).status == "open"


def test_an_unknown_discount_code_bills_nothing(make_order):
    order = make_order()

    with pytest.raises(ValidationError) as error:
        services.order_bill(order_id=order.pk, discount_code="FREEFOOD")

    assert list(error.value.message_dict) == ["discount_code"]
    stored = Order.objects.get(pk=order.pk)
    assert (stored.status, stored.total, stored.tally) == ("open", None, None)
    assert not Submission.objects.exists()


# -- Payments -----------------------------------------------------------------------------------


def test_paying_an_open_order_needs_a_bill_first(make_order):
    order = make_order()

    with pytest.raises(OrderConflict, match="bill it before paying"):
        services.order_pay(order_id=order.pk, payments=[cash(100)])

    assert not Payment.objects.exists()


def test_v1_style_payments_bill_the_order_first(make_order):
    order = make_order()

    [payment] = services.order_pay(
        order_id=order.pk, payments=[card_payment(1000)], bill_if_open=True
    )

    order.refresh_from_db()
    assert (order.status, order.total, order.due) == ("billed", 2200, 1200)
    assert payment.status == "captured"


def test_a_partial_failure_keeps_what_was_captured(make_order):
    order = make_order(bill=True)  # 2200

    payments = services.order_pay(
        order_id=order.pk,
        payments=[card_payment(1000), card_payment(700, DECLINED), cash(500)],
    )

    assert [(p.method, p.amount, p.status) for p in payments] == [
        ("card", 1000, "captured"),
        ("card", 700, "declined"),
        ("cash", 500, "captured"),
    ]
    order.refresh_from_db()
    assert (order.status, order.paid, order.due) == ("billed", 1500, 700)
    assert SandboxCharge.objects.count() == 2

    [rest] = services.order_pay(order_id=order.pk, payments=[card_payment(700)])

    order.refresh_from_db()
    assert rest.status == "captured"
    assert (order.status, order.paid, order.due) == ("paid", 2200, 0)
    assert order.paid_at is not None


def test_paying_more_than_is_due_pays_nothing(make_order):
    order = make_order(bill=True)  # 2200
    services.order_pay(order_id=order.pk, payments=[cash(2000)])

    with pytest.raises(OrderConflict, match="add up to 300 cents, but 200 cents are due"):
        services.order_pay(order_id=order.pk, payments=[card_payment(100), cash(200)])

    assert Payment.objects.count() == 1
    assert SandboxCharge.objects.count() == 0


def test_a_paid_order_takes_no_more_payments(make_order):
    order = make_order(bill=True)
    services.order_pay(order_id=order.pk, payments=[cash(2200)])

    with pytest.raises(OrderConflict, match="paid already"):
        services.order_pay(order_id=order.pk, payments=[cash(1)])


class Exploding(CardProcessor):
    def charge(self, *, amount, card, reference):
        raise ConnectionError("processor unreachable")


def test_a_processor_that_raises_fails_its_payment_only(make_order, settings, caplog):
    from services.billing import processors

    settings.BILLING_CARD_PROCESSOR = "tests.billing.test_services.Exploding"
    processors._processor_class.cache_clear()
    order = make_order(bill=True)

    payments = services.order_pay(order_id=order.pk, payments=[card_payment(1000), cash(200)])

    assert [(p.status, p.failure_code) for p in payments] == [
        ("failed", "processor_error"),
        ("captured", ""),
    ]
    assert payments[0].card_last4 == VISA[-4:]
    assert VISA not in caplog.text


def test_a_declined_card_asks_for_one_ticket_and_a_failed_one_for_none(make_order):
    order = make_order(bill=True, table="7")

    declined, failed = services.order_pay(
        order_id=order.pk,
        payments=[card_payment(1250, DECLINED), card_payment(100, PROCESSING_ERROR)],
    )

    request = TicketRequest.objects.get()
    assert request.payment == declined
    assert request.payload == {
        "subject": f"Card declined for order {order.pk}",
        "body": (
            f"A visa ending in 0002 was declined (card_declined) for 12.50 on order {order.pk} "
            f"(table 7), payment {declined.pk}. 22.00 remain due."
        ),
        "requester": "billing@switchyard.dev",
        "order_ref": f"order-{order.pk}",
    }
    assert request.idempotency_key == f"payment-{declined.pk}-declined"
    assert (request.status, request.attempts) == ("pending", 0)
    assert failed.status == "failed"
