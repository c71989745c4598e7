"""Billing v2's contract, operation by operation: ids, texts, parameters, responses and
examples. Each name decorates the view method of the same operation."""

from drf_spectacular.utils import OpenApiExample, extend_schema

from services.billing.api.schema import CARD, MENU_ITEMS, billing_problems
from services.billing.api.v2.serializers import (
    BillOrderSerializer,
    ItemsAddedSerializer,
    ItemsAddSerializer,
    MenuSerializer,
    OrderBilledSerializer,
    OrderCreateSerializer,
    OrderSerializer,
    PaymentsResultSerializer,
    PayOrderSerializer,
    SubmissionSerializer,
)
from services.kit.schema import (
    BODY_ERRORS,
    COMMON_ERRORS,
    IDEMPOTENCY_ERRORS,
    idempotency_key,
)

TAGS = ["billing"]
KEY = [idempotency_key(required=True)]

MENU_EXAMPLE = {
    "items": MENU_ITEMS,
    "bundles": [
        {
            "code": "omelet-includes-coffee",
            "description": "Omelet includes a coffee",
            "item": "omelet",
            "free_item": "coffee",
        }
    ],
}


def _item(id, item, name, diner, price, status="submitted", submission=1):
    return {
        "id": id,
        "item": item,
        "name": name,
        "diner": diner,
        "quantity": 1,
        "unit_price": price,
        "status": status,
        "submission": submission,
        "added_at": "2026-11-21T12:03:10Z",
    }


ITEMS = [
    _item(40, "salad", "Garden salad", "John", 850),
    _item(41, "juice", "Orange juice", "John", 400),
    _item(42, "omelet", "Omelet", "Jane", 950),
    _item(43, "coffee", "Coffee", "Derek", 300),
]
BILL_EXAMPLE = {
    "lines": [
        {"item": i["item"], "name": i["name"], "quantity": 1, "unit_price": p, "amount": p}
        for i, p in zip(ITEMS, (850, 400, 950, 300), strict=True)
    ],
    "subtotal": 2500,
    "discounts": [
        {
            "code": "omelet-includes-coffee",
            "description": "Omelet includes a coffee",
            "amount": 300,
        },
        {"code": "HAPPYHOUR", "description": "Happy hour: 10% off", "amount": 220},
    ],
    "total": 1980,
    "discount_code": "HAPPYHOUR",
    "billed_at": "2026-11-21T12:30:00Z",
}
PAYMENTS_EXAMPLE = {
    "order_id": 17,
    "status": "billed",
    "total": 1980,
    "paid": 1500,
    "due": 480,
    "payments": [
        {
            "id": 7,
            "method": "card",
            "amount": 1000,
            "status": "captured",
            "card": {"brand": "visa", "last4": "4242"},
            "failure_code": None,
            "created_at": "2026-11-21T12:31:02Z",
        },
        {
            "id": 8,
            "method": "cash",
            "amount": 500,
            "status": "captured",
            "card": None,
            "failure_code": None,
            "created_at": "2026-11-21T12:31:02Z",
        },
        {
            "id": 9,
            "method": "card",
            "amount": 480,
            "status": "declined",
            "card": {"brand": "visa", "last4": "0002"},
            "failure_code": "card_declined",
            "created_at": "2026-11-21T12:31:02Z",
        },
    ],
}
ORDER_EXAMPLE = {
    "id": 17,
    "table": "12",
    "status": "billed",
    "items": ITEMS,
    "submissions": [
        {"number": 1, "items": [40, 41, 42, 43], "submitted_at": "2026-11-21T12:05:00Z"}
    ],
    "bill": BILL_EXAMPLE,
    "paid": 1500,
    "due": 480,
    "payments": PAYMENTS_EXAMPLE["payments"],
    "created_at": "2026-11-21T12:02:40Z",
    "updated_at": "2026-11-21T12:31:02Z",
}
NEW_ORDER_EXAMPLE = {
    **ORDER_EXAMPLE,
    "status": "open",
    "items": [],
    "submissions": [],
    "bill": None,
    "paid": 0,
    "due": None,
    "payments": [],
    "updated_at": "2026-11-21T12:02:40Z",
}


menu = extend_schema(
    operation_id="billing_menu",
    summary="The menu and its bundles",
    description=(
        "Every item on the menu with its price in cents, and the bundles the bill applies."
    ),
    tags=TAGS,
    responses={200: MenuSerializer, **billing_problems(*COMMON_ERRORS)},
    examples=[OpenApiExample("The menu", response_only=True, value=MENU_EXAMPLE)],
)

order_create = extend_schema(
    operation_id="billing_order_create",
    summary="Open an order for a table",
    description="A new, empty order for the table; diners add items to it next.",
    tags=TAGS,
    request=OrderCreateSerializer,
    parameters=KEY,
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
    summary="Get an order: items, submissions, bill and payments",
    description="The whole order as it stands; 404 when there is none.",
    tags=TAGS,
    responses={200: OrderSerializer, **billing_problems(404, *COMMON_ERRORS)},
    examples=[OpenApiExample("A billed order", response_only=True, value=ORDER_EXAMPLE)],
)

order_item_add = extend_schema(
    operation_id="billing_order_item_add",
    summary="Add items to an open order",
    description=(
        "Several diners may add at once. The items stay `pending` until the next submission "
        "takes them to the kitchen; each is priced at today's menu price."
    ),
    tags=TAGS,
    request=ItemsAddSerializer,
    parameters=KEY,
    responses={
        201: ItemsAddedSerializer,
        **billing_problems(*BODY_ERRORS, 404, *IDEMPOTENCY_ERRORS, *COMMON_ERRORS),
    },
    examples=[
        OpenApiExample(
            "John's salad and juice",
            request_only=True,
            value={
                "items": [
                    {"item": "salad", "diner": "John"},
                    {"item": "juice", "diner": "John", "quantity": 1},
                ]
            },
        ),
        OpenApiExample(
            "Added",
            response_only=True,
            status_codes=[201],
            value={
                "order_id": 17,
                "items": [{**item, "status": "pending", "submission": None} for item in ITEMS[:2]],
            },
        ),
    ],
)

order_item_remove = extend_schema(
    operation_id="billing_order_item_remove",
    summary="Remove a pending item",
    description="Only an item the kitchen has not seen yet (`pending`) can be removed.",
    tags=TAGS,
    parameters=KEY,
    responses={204: None, **billing_problems(404, *IDEMPOTENCY_ERRORS, *COMMON_ERRORS)},
)

order_submit = extend_schema(
    operation_id="billing_order_submit",
    summary="Send every pending item to the kitchen",
    description=(
        "A boundary: every item pending at that moment goes, as one numbered submission. An "
        "item added concurrently is either in it or stays pending for the next one."
    ),
    tags=TAGS,
    request=None,
    parameters=KEY,
    responses={
        201: SubmissionSerializer,
        **billing_problems(404, *IDEMPOTENCY_ERRORS, *COMMON_ERRORS),
    },
    examples=[
        OpenApiExample(
            "Submitted",
            response_only=True,
            status_codes=[201],
            value={
                "order_id": 17,
                "number": 1,
                "items": ITEMS,
                "submitted_at": "2026-11-21T12:05:00Z",
            },
        )
    ],
)

order_bill = extend_schema(
    operation_id="billing_order_bill",
    summary="Close the order and compute the final tally",
    description=(
        "Items still pending go to the kitchen with the bill. Bundles apply first (each "
        "omelet includes a coffee), then the discount code's percentage. After this the "
        "order takes no more items."
    ),
    tags=TAGS,
    request=BillOrderSerializer,
    parameters=KEY,
    responses={
        200: OrderBilledSerializer,
        **billing_problems(*BODY_ERRORS, 404, *IDEMPOTENCY_ERRORS, *COMMON_ERRORS),
    },
    examples=[
        OpenApiExample("Happy hour", request_only=True, value={"discount_code": "HAPPYHOUR"}),
        OpenApiExample(
            "Billed",
            response_only=True,
            value={
                "order_id": 17,
                "status": "billed",
                "bill": BILL_EXAMPLE,
                "paid": 0,
                "due": 1980,
            },
        ),
    ],
)

order_pay = extend_schema(
    operation_id="billing_order_pay",
    summary="Pay the bill with one or more methods",
    description=(
        "Each method is charged on its own: a captured payment stands even when another of "
        "the same call is declined, and what was not paid stays `due` for a later call. The "
        "payments may not add up to more than is due. A declined card opens a support ticket."
    ),
    tags=TAGS,
    request=PayOrderSerializer,
    parameters=KEY,
    responses={
        201: PaymentsResultSerializer,
        **billing_problems(*BODY_ERRORS, 404, *IDEMPOTENCY_ERRORS, *COMMON_ERRORS),
    },
    examples=[
        OpenApiExample(
            "Two cards and cash",
            request_only=True,
            value={
                "payments": [
                    {"method": "card", "amount": 1000, "card": CARD},
                    {"method": "cash", "amount": 500},
                    {
                        "method": "card",
                        "amount": 480,
                        "card": {**CARD, "number": "4000000000000002"},
                    },
                ]
            },
        ),
        OpenApiExample(
            "Partly paid", response_only=True, status_codes=[201], value=PAYMENTS_EXAMPLE
        ),
    ],
)
