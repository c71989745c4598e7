"""Writes to billing. Every API version calls these; none of them knows about versions.

Every write to an order locks the order's row first (``select_for_update``), so the writes to one
order queue: an item added while the order is submitted is either in that submission or still
pending afterwards, an item added while it is billed is either on the bill or refused, and two
payment calls never both pay what was due once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Sum
from django.utils import timezone

from services.billing import tally as tallying
from services.billing.errors import OrderConflict
from services.billing.models import (
    MenuItem,
    Order,
    OrderItem,
    Payment,
    Submission,
    TicketRequest,
)
from services.billing.processors import Card, ChargeResult, card_processor
from services.billing.worker import ticket_requests
from services.kit.errors import FieldError, Invalid, NotFound
from services.kit.outbox import Pass

logger = logging.getLogger("switchyard.billing")

MAX_ITEMS_PER_ORDER = 200
MAX_QUANTITY = 20
TICKET_REQUESTER = "billing@switchyard.dev"
TICKET_THREAD_NAME = ticket_requests.thread_name


@dataclass(frozen=True)
class NewItem:
    item: str  # a menu item's code
    diner: str
    quantity: int = 1


@dataclass(frozen=True)
class PaymentRequest:
    method: str  # Payment.Method
    amount: int
    card: Card | None = None
    payer: str = ""


def _locked(order_id: int) -> Order:
    """The order, its row locked until the transaction ends."""
    try:
        return Order.objects.select_for_update().get(pk=order_id)
    except Order.DoesNotExist:
        raise NotFound.of(Order, f"There is no order with id {order_id}.") from None


def _require_open(order: Order) -> None:
    if order.status != Order.Status.OPEN:
        raise OrderConflict(f"Order {order.pk} is {order.status}: it takes no more changes.")


def order_create(*, table: str) -> Order:
    order = Order(table=table)
    order.full_clean()
    order.save()
    return order


def _menu_for(items: Sequence[NewItem], where: Callable[[int], tuple]) -> dict[str, MenuItem]:
    """The menu items these codes name; :class:`Invalid` at ``where(index)`` for each code that
    is not on the menu (checked before the order, so a wrong code is named whatever the order)."""
    menu = {m.code: m for m in MenuItem.objects.filter(code__in={i.item for i in items})}
    unknown = [
        FieldError(where(index), f"{new.item!r} is not on the menu.", "does_not_exist")
        for index, new in enumerate(items)
        if new.item not in menu or not menu[new.item].available
    ]
    if unknown:
        raise Invalid(unknown)
    return menu


def order_items_add(*, order_id: int, items: Sequence[NewItem]) -> list[OrderItem]:
    """Add items, pending until the next submission, at today's menu prices."""
    return _add(order_id, items, _menu_for(items, lambda index: ("items", index, "item")))


def order_item_add(*, order_id: int, item: str, diner: str, quantity: int = 1) -> OrderItem:
    """Add one item (``item``: a menu item's code), like :func:`order_items_add`."""
    items = [NewItem(item=item, diner=diner, quantity=quantity)]
    [added] = _add(order_id, items, _menu_for(items, lambda index: ("item",)))
    return added


@transaction.atomic
def _add(order_id: int, items: Sequence[NewItem], menu: dict[str, MenuItem]) -> list[OrderItem]:
    order = _locked(order_id)
    _require_open(order)
    held = order.items.count()
    if held + len(items) > MAX_ITEMS_PER_ORDER:
        raise OrderConflict(
            f"Order {order.pk} holds {held} items; an order holds at most {MAX_ITEMS_PER_ORDER}."
        )
    created = []
    for new in items:
        item = OrderItem(
            order=order,
            menu_item=menu[new.item],
            diner=new.diner,
            quantity=new.quantity,
            unit_price=menu[new.item].price,
        )
        item.full_clean(exclude=["order", "menu_item", "submission"])
        created.append(item)
    OrderItem.objects.bulk_create(created)
    order.save(update_fields=["updated_at"])
    return created


@transaction.atomic
def order_item_remove(*, order_id: int, item_id: int) -> None:
    """Take back an item the kitchen has not seen yet."""
    order = _locked(order_id)
    try:
        item = order.items.get(pk=item_id)
    except OrderItem.DoesNotExist:
        raise NotFound.of(OrderItem, f"Order {order_id} has no item with id {item_id}.") from None
    _require_open(order)
    if item.status != OrderItem.Status.PENDING:
        raise OrderConflict(
            f"Item {item_id} went to the kitchen with submission {item.submission.number}; "
            "it can no longer be removed."
        )
    item.delete()
    order.save(update_fields=["updated_at"])


def _submit(order: Order) -> Submission | None:
    pending = order.items.filter(status=OrderItem.Status.PENDING)
    if not pending.exists():
        return None
    last = order.submissions.aggregate(last=Max("number"))["last"] or 0
    submission = Submission.objects.create(order=order, number=last + 1)
    pending.update(status=OrderItem.Status.SUBMITTED, submission=submission)
    return submission


@transaction.atomic
def order_submit(*, order_id: int) -> Submission:
    """Send every pending item to the kitchen as one numbered submission."""
    order = _locked(order_id)
    _require_open(order)
    submission = _submit(order)
    if submission is None:
        raise OrderConflict(f"Order {order_id} has no pending items to submit.")
    order.save(update_fields=["updated_at"])
    return submission


def _bill(order: Order, *, discount_code: str) -> None:
    if not order.items.exists():
        raise OrderConflict(f"Order {order.pk} has no items: there is nothing to bill.")
    # Whatever is still pending goes to the kitchen with the bill: an item is never lost.
    _submit(order)
    ordered = [
        tallying.Ordered(
            item=item.menu_item.code,
            name=item.menu_item.name,
            unit_price=item.unit_price,
            quantity=item.quantity,
        )
        for item in order.items.select_related("menu_item").order_by("id")
    ]
    result = tallying.tally(ordered, discount_code=discount_code)
    order.discount_code = tallying.normalize_code(discount_code) if discount_code else ""
    order.tally = result.as_dict()
    order.total = result.total
    order.status = Order.Status.BILLED
    order.billed_at = timezone.now()
    order.save()


@transaction.atomic
def order_bill(*, order_id: int, discount_code: str = "") -> Order:
    """Close the order and fix its final tally: bundles, then the discount code's percentage
    (``discount_code``, in any case; an unknown one is refused whatever the order)."""
    if discount_code and tallying.discount_for(discount_code) is None:
        raise Invalid.field("discount_code", message="Not a valid discount code.")
    order = _locked(order_id)
    _require_open(order)
    _bill(order, discount_code=discount_code)
    return order


def _captured(order: Order) -> int:
    captured = order.payments.filter(status=Payment.Status.CAPTURED)
    return captured.aggregate(total=Sum("amount"))["total"] or 0


def _charge(payment: Payment, card: Card) -> ChargeResult:
    try:
        return card_processor().charge(
            amount=payment.amount, card=card, reference=payment.reference
        )
    except Exception:
        # Whatever the processor raised, the other methods of the call still go through; the
        # card (its repr is masked) is not part of what is logged.
        logger.exception("card processor failed", extra={"payment_id": payment.pk})
        return ChargeResult(status="failed", last4=card.last4, failure_code="processor_error")


@transaction.atomic
def order_pay(
    *, order_id: int, payments: Sequence[PaymentRequest], bill_if_open: bool = False
) -> list[Payment]:
    """Pay a billed order with one or more methods, each on its own.

    A captured payment stands whatever happens to the others; what is not captured stays due for
    a later call. Asking for more than is due pays nothing. ``bill_if_open`` bills an open order
    first (v1, which has no bill step).
    """
    order = _locked(order_id)
    if order.status == Order.Status.OPEN:
        if not bill_if_open:
            raise OrderConflict(f"Order {order_id} is open: bill it before paying.")
        _bill(order, discount_code="")
    if order.status == Order.Status.PAID:
        raise OrderConflict(f"Order {order_id} is paid already.")
    due = order.total - _captured(order)
    asked = sum(p.amount for p in payments)
    if asked > due:
        raise OrderConflict(
            f"The payments add up to {asked} cents, but {due} cents are due on order {order_id}."
        )
    done = []
    declined = []
    for request in payments:
        payment = Payment.objects.create(
            order=order, method=request.method, amount=request.amount, payer=request.payer
        )
        if request.method == Payment.Method.CASH:
            payment.status = Payment.Status.CAPTURED
        else:
            result = _charge(payment, request.card)
            payment.status = result.status
            payment.card_brand = result.brand
            payment.card_last4 = result.last4 or request.card.last4
            payment.processor_reference = result.processor_reference
            payment.failure_code = result.failure_code
            if payment.status == Payment.Status.DECLINED:
                declined.append(payment)
        payment.save()
        done.append(payment)
        logger.info(
            "payment",
            extra={
                "order_id": order.pk,
                "payment_id": payment.pk,
                "method": payment.method,
                "amount": payment.amount,
                "status": payment.status,
                "card_brand": payment.card_brand,
                "card_last4": payment.card_last4,
                "failure_code": payment.failure_code,
            },
        )
    if _captured(order) == order.total:
        order.status = Order.Status.PAID
        order.paid_at = timezone.now()
    order.save()
    if declined:
        requests = [_ticket_request_for(order, payment) for payment in declined]
        ticket_requests_send_after_commit(ids=[r.pk for r in requests])
    return done


def payment_create(*, order_id: int, payer: str, amount: int, card: Card) -> Payment:
    """One payer pays their part of an order by card; an open order is billed first. The
    payment names its order, so an unknown one is an invalid ``order_id``, not a missing order."""
    try:
        [payment] = order_pay(
            order_id=order_id,
            payments=[
                PaymentRequest(method=Payment.Method.CARD, amount=amount, card=card, payer=payer)
            ],
            bill_if_open=True,
        )
    except Order.DoesNotExist:
        raise Invalid.field(
            "order_id", message=f"There is no order with id {order_id}.", code="does_not_exist"
        ) from None
    return payment


# -- Support tickets for declined cards (an outbox) ------------------------------------------


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _ticket_request_for(order: Order, payment: Payment) -> TicketRequest:
    card = f"{payment.card_brand or 'card'} ending in {payment.card_last4}"
    return TicketRequest.objects.create(
        payment=payment,
        subject=f"Card declined for order {order.pk}",
        body=(
            f"A {card} was declined ({payment.failure_code}) for {_money(payment.amount)} "
            f"on order {order.pk} (table {order.table}), payment {payment.pk}. "
            f"{_money(order.total - _captured(order))} remain due."
        ),
        requester=TICKET_REQUESTER,
        order_ref=f"order-{order.pk}",
        idempotency_key=f"payment-{payment.pk}-declined",
    )


def ticket_requests_send_after_commit(*, ids: Collection[int]) -> None:
    """Once the transaction commits, send these from a background thread: the response that
    declined the card never waits for the tickets service, nor fails because it is down."""
    if settings.BILLING_SEND_TICKETS_AFTER_COMMIT:
        ticket_requests.send_after_commit(ids, background=True)


def ticket_requests_send(
    *, ids: Collection[int] | None = None, stop: Callable[[], bool] | None = None
) -> Pass:
    """Send pending ticket requests now (these ``ids``, or any; due or not), each at most once,
    until ``stop()`` says so; how many were sent, are still pending, or failed for good."""
    return ticket_requests.send_pending(ids=ids, due_only=False, stop=stop)
