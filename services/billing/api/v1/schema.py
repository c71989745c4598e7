"""Billing v1's contract, operation by operation: ids, texts, parameters, responses and
examples. Each name decorates the view method of the same operation."""

from drf_spectacular.utils import OpenApiExample, extend_schema

from services.billing.api.schema import CARD, MENU_ITEMS, billing_problems
from services.billing.api.v1.serializers import (
    ItemAddSerializer,
    ItemSerializer,
    MenuSerializer,
    OrderCreateSerializer,
    OrderSerializer,
    PaymentCreateSerializer,
    PaymentSerializer,
)
from services.kit.schema import (
    BODY_ERRORS,
    COMMON_ERRORS,
    IDEMPOTENCY_ERRORS,
    idempotency_key,
)

TAGS = ["billing"]
MENU_EXAMPLE = {"items": MENU_ITEMS}
ITEM_EXAMPLE = {
    "id": 41,
    "item": "omelet",
    "name": "Omelet",
    "diner": "Jane",
    "quantity": 1,
    "price": 950,
}
PAYMENT_EXAMPLE = {
    "id": 7,
    "order_id": 17,
    "payer": "Jane",
    "amount": 1000,
    "status": "captured",
    "card": {"brand": "visa", "last4": "4242"},
    "failure_code": None,
    "created": "2026-11-21T12:31:02Z",
}
ORDER_EXAMPLE = {
    "id": 17,
    "table": "12",
    "status": "billed",
    "items": [
        ITEM_EXAMPLE,
        {
            "id": 42,
            "item": "coffee",
            "name": "Coffee",
            "diner": "Derek",
            "quantity": 1,
            "price": 300,
        },
    ],
    "payments": [PAYMENT_EXAMPLE],
    "total": 950,
    "paid": 950,
    "due": 0,
    "created": "2026-11-21T12:02:40Z",
}
NEW_ORDER_EXAMPLE = {
    **ORDER_EXAMPLE,
    "status": "open",
    "items": [],
    "payments": [],
    "total": None,
    "paid": 0,
    "due": None,
}


menu = extend_schema(
    operation_id="billing_menu",
    summary="The menu",
    description="Every item on the menu with its price in cents.",
    tags=TAGS,
    responses={200: MenuSerializer, **billing_problems(*COMMON_ERRORS)},
    examples=[OpenApiExample("The menu", response_only=True, value=MENU_EXAMPLE)],
)

order_create = extend_schema(
    operation_id="billing_order_create",
    summary="Open an order for a table",
    description="A new, empty order for the table; add items to it next.",
    tags=TAGS,
    request=OrderCreateSerializer,
    parameters=[idempotency_key(required=True)],
    responses={
        201: OrderSerializer,
        **billing_problems(*BODY_ERRORS, *IDEMPOTENCY_ERRORS, *COMMON_ERRORS),
    },
    examples=[
        OpenApiExample("Table 12", request_only=True, value={"table": "12"}),
        OpenApiExample("Opened", response_only=True, status_codes=[201], value=NEW_ORDER_EXAMPLE),
    ],
)

order_retrieve = extend_schema(
    operation_id="billing_order_retrieve",
    summary="Get an order with its items and payments",
    description=(
        "The order, its items and its payments, with what is paid and what is due; 404 when "
        "there is none."
    ),
    tags=TAGS,
    responses={200: OrderSerializer, **billing_problems(404, *COMMON_ERRORS)},
    examples=[OpenApiExample("An order", response_only=True, value=ORDER_EXAMPLE)],
)

order_item_add = extend_schema(
    operation_id="billing_order_item_add",
    summary="Add an item to an open order",
    description=(
        "Adds one menu item (with a quantity) to an order that is still open, and returns it."
    ),
    tags=TAGS,
    request=ItemAddSerializer,
    parameters=[idempotency_key(required=True)],
    responses={
        201: ItemSerializer,
        **billing_problems(*BODY_ERRORS, 404, *IDEMPOTENCY_ERRORS, *COMMON_ERRORS),
    },
    examples=[
        OpenApiExample(
            "Jane's omelet", request_only=True, value={"item": "omelet", "diner": "Jane"}
        ),
        OpenApiExample("Added", response_only=True, status_codes=[201], value=ITEM_EXAMPLE),
    ],
)

payment_create = extend_schema(
    operation_id="billing_payment_create",
    summary="Pay part of an order by card",
    description=(
        "Each payer pays their own amount. The first payment bills the order (bundles "
        "included); a payment for more than is still due is refused. A declined card is "
        "recorded with `status: declined` and its `failure_code`, and nothing is charged."
    ),
    tags=TAGS,
    request=PaymentCreateSerializer,
    parameters=[idempotency_key(required=True)],
    responses={
        201: PaymentSerializer,
        **billing_problems(*BODY_ERRORS, *IDEMPOTENCY_ERRORS, *COMMON_ERRORS),
    },
    examples=[
        OpenApiExample(
            "Jane pays 10.00",
            request_only=True,
            value={"order_id": 17, "payer": "Jane", "amount": 1000, "card": CARD},
        ),
        OpenApiExample("Paid", response_only=True, status_codes=[201], value=PAYMENT_EXAMPLE),
    ],
)
