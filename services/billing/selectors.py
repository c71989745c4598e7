"""Reads from billing, shared by every API version."""

from django.db.models import Prefetch, QuerySet

from services.billing.models import MenuItem, Order, OrderItem, Payment, Submission
from services.kit.errors import NotFound


def menu_list() -> QuerySet[MenuItem]:
    """What can be ordered now."""
    return MenuItem.objects.filter(available=True)


def _items() -> QuerySet[OrderItem]:
    return OrderItem.objects.select_related("menu_item", "submission").order_by("id")


def order_list() -> QuerySet[Order]:
    return Order.objects.prefetch_related(
        Prefetch("items", queryset=_items()),
        Prefetch(
            "submissions",
            queryset=Submission.objects.order_by("number").prefetch_related(
                Prefetch("items", queryset=OrderItem.objects.only("id", "submission_id"))
            ),
        ),
        Prefetch("payments", queryset=Payment.objects.order_by("id")),
    )


def order_get(*, order_id: int) -> Order:
    """The order with its items, submissions and payments, or :class:`NotFound`."""
    try:
        return order_list().get(pk=order_id)
    except Order.DoesNotExist:
        raise NotFound.of(Order, f"There is no order with id {order_id}.") from None


def submission_get(*, submission_id: int) -> Submission:
    return Submission.objects.prefetch_related(Prefetch("items", queryset=_items())).get(
        pk=submission_id
    )
