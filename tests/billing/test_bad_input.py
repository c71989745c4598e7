"""Bad input to both billing API versions: a clear problem+json 4xx, never a 500, nothing written.

Each test sends one kind of bad input to every operation it can reach, with everything else right
(an Idempotency-Key included), then checks the response against RFC 9457, against the committed
contract wherever the operation documents the status, and that no row anywhere changed: not an
order's ``updated_at``, not a payment, not a charge in the sandbox's ledger, not an idempotency key.
"""

from contextlib import contextmanager

import pytest
from django.conf import settings as django_settings
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from services.billing.models import (
    Order,
    OrderItem,
    Payment,
    SandboxCharge,
    Submission,
    TicketRequest,
)
from services.kit import problems
from services.kit.models import IdempotencyRecord
from tests.billing.conftest import VISA, card, key
from tests.helpers import (
    ABSENT_ID,
    JSON,
    MAX_DB_INT,
    operation_id,
    pointers,
    problem_checker,
    rolled_back,
)
from tests.helpers import (
    send as send_json,
)

pytestmark = pytest.mark.django_db


# (version, method, path) of every operation that reads a JSON body. {open} is an open order with
# items, {billed} a billed one, {item} a pending item of {open}.
BODY_OPERATIONS = [
    ("v1", "post", "/v1/orders"),
    ("v1", "post", "/v1/orders/{open}/items"),
    ("v1", "post", "/v1/payments"),
    ("v2", "post", "/v2/orders"),
    ("v2", "post", "/v2/orders/{open}/items"),
    ("v2", "post", "/v2/orders/{open}/bill"),
    ("v2", "post", "/v2/orders/{billed}/payments"),
]
# Every operation with an id in its path; {id} is the one made bad.
ID_OPERATIONS = [
    ("v1", "get", "/v1/orders/{id}"),
    ("v1", "post", "/v1/orders/{id}/items"),
    ("v2", "get", "/v2/orders/{id}"),
    ("v2", "post", "/v2/orders/{id}/items"),
    ("v2", "delete", "/v2/orders/{id}/items/{item}"),
    ("v2", "delete", "/v2/orders/{open}/items/{id}"),
    ("v2", "post", "/v2/orders/{id}/submit"),
    ("v2", "post", "/v2/orders/{id}/bill"),
    ("v2", "post", "/v2/orders/{id}/payments"),
]
# One operation per path: what goes wrong before dispatch goes wrong for every method alike.
ONE_PER_PATH = [
    ("v1", "get", "/v1/menu"),
    ("v1", "post", "/v1/orders"),
    ("v1", "get", "/v1/orders/{open}"),
    ("v1", "post", "/v1/orders/{open}/items"),
    ("v1", "post", "/v1/payments"),
    ("v2", "get", "/v2/menu"),
    ("v2", "post", "/v2/orders"),
    ("v2", "get", "/v2/orders/{open}"),
    ("v2", "post", "/v2/orders/{open}/items"),
    ("v2", "delete", "/v2/orders/{open}/items/{item}"),
    ("v2", "post", "/v2/orders/{open}/submit"),
    ("v2", "post", "/v2/orders/{open}/bill"),
    ("v2", "post", "/v2/orders/{billed}/payments"),
]


def valid_body(version: str, path: str, orders: dict):
    """A body the operation would accept, so that only the thing under test is wrong."""
    if path.endswith("/v1/orders") or path.endswith("/v2/orders"):
        return {"table": "12"}
    if version == "v1" and path.endswith("/items"):
        return {"item": "tea", "diner": "Kim"}
    if path.endswith("/items"):
        return {"items": [{"item": "tea", "diner": "Kim"}]}
    if path.endswith("/bill"):
        return {"discount_code": "HAPPYHOUR"}
    if path == "/v1/payments":
        return {"order_id": orders["open"], "payer": "Kim", "amount": 100, "card": card()}
    if path.endswith("/payments"):
        return {"payments": [{"method": "card", "amount": 100, "card": card()}]}
    return None


def send(api, method, path, body=b"", content_type=JSON, **extra):
    """Every billing write needs an Idempotency-Key: a fresh one, unless the test sets its own."""
    extra.setdefault("HTTP_IDEMPOTENCY_KEY", key())
    return send_json(api, method, path, body, content_type, **extra)


def stored() -> dict:
    """Every row billing keeps, as stored."""
    models = (Order, OrderItem, Submission, Payment, TicketRequest, SandboxCharge)
    rows = {model.__name__: list(model.objects.order_by("pk").values()) for model in models}
    rows["idempotency"] = list(IdempotencyRecord.objects.order_by("pk").values("key", "status"))
    return rows


@contextmanager
def nothing_written():
    """Wrap a request and the assertions on its response: if those pass, every stored row must be
    exactly as before. A wrong response fails first, so its own message is the one reported."""
    before = stored()
    yield
    assert stored() == before


@pytest.fixture
def orders(make_order):
    open_order = make_order()
    billed = make_order(bill=True)
    return {"open": open_order.pk, "item": open_order.items.first().pk, "billed": billed.pk}


def fill(path: str, orders: dict, **ids) -> str:
    return path.format(**{**orders, **{name: str(value) for name, value in ids.items()}})


@pytest.fixture
def expect_problem(contracts, conforms):
    return problem_checker(contracts, conforms)


# -- Malformed bodies -------------------------------------------------------------------------

MALFORMED_BODIES = {
    "truncated": b'{"table": "12"',
    "NaN": b'{"amount": NaN, "table": "12"}',
    "invalid UTF-8": b'{"table": "\xff\xfe\xc3"}',
    "lone surrogate": b'{"table": "\\ud800", "diner": "\\udfff"}',
    "nested 100000 deep": b"[" * 100_000 + b"]" * 100_000,
    "member nested 100000 deep": b'{"items": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "integer beyond Python's digit limit": b'{"amount": %b}' % (b"9" * 5000),
    "whitespace only": b" \r\n\t ",
}


@pytest.mark.parametrize("operation", BODY_OPERATIONS, ids=operation_id)
@pytest.mark.parametrize("body", MALFORMED_BODIES.values(), ids=MALFORMED_BODIES.keys())
def test_malformed_json_is_a_malformed_body_problem(api, orders, expect_problem, operation, body):
    version, method, path = operation

    with nothing_written():
        response = send(api, method, fill(path, orders), body)

        problem = expect_problem(version, response, 400, type=problems.MALFORMED_BODY)
        assert "errors" not in problem


NOT_OBJECTS = {"string": "hello", "number": 42, "array": [1, 2], "null": None, "true": True}


@pytest.mark.parametrize("operation", BODY_OPERATIONS, ids=operation_id)
@pytest.mark.parametrize("body", NOT_OBJECTS.values(), ids=NOT_OBJECTS.keys())
def test_a_body_that_is_not_an_object_points_at_the_document(
    api, orders, expect_problem, operation, body
):
    version, method, path = operation

    with nothing_written():
        response = send(api, method, fill(path, orders), body)

        problem = expect_problem(version, response, 400, type=problems.VALIDATION)
        assert pointers(problem) == {"#"}


@pytest.mark.parametrize("operation", BODY_OPERATIONS, ids=operation_id)
def test_an_empty_json_body_is_rejected(api, orders, expect_problem, operation):
    version, method, path = operation

    with nothing_written():
        response = send(api, method, fill(path, orders), b"")

        problem = expect_problem(version, response, 400)
        assert problem["type"] in {problems.MALFORMED_BODY, problems.VALIDATION}


NOT_JSON = {
    "text/plain": ("text/plain", b'{"table": "12"}'),
    "form-encoded": ("application/x-www-form-urlencoded", b"table=12&amount=100"),
    "multipart": (MULTIPART_CONTENT, encode_multipart(BOUNDARY, {"table": "12"})),
    "xml": ("application/xml", b"<table>12</table>"),
    "JSON in another charset": (f"{JSON}; charset=utf-16", '{"table": "12"}'.encode("utf-16")),
}


@pytest.mark.parametrize("operation", BODY_OPERATIONS, ids=operation_id)
@pytest.mark.parametrize("content", NOT_JSON.values(), ids=NOT_JSON.keys())
def test_a_body_that_is_not_json_is_unsupported(api, orders, expect_problem, operation, content):
    version, method, path = operation
    content_type, body = content

    with nothing_written():
        response = send(api, method, fill(path, orders), body, content_type)

        expect_problem(version, response, 415)


WRONG_METHODS = [
    ("v1", "post", "/v1/menu", {"GET"}),
    ("v1", "get", "/v1/orders", {"POST"}),
    ("v1", "delete", "/v1/orders", {"POST"}),
    ("v1", "post", "/v1/orders/{open}", {"GET"}),
    ("v1", "delete", "/v1/orders/{open}", {"GET"}),
    ("v1", "get", "/v1/orders/{open}/items", {"POST"}),
    ("v1", "get", "/v1/payments", {"POST"}),
    ("v1", "put", "/v1/payments", {"POST"}),
    ("v2", "put", "/v2/menu", {"GET"}),
    ("v2", "get", "/v2/orders", {"POST"}),
    ("v2", "patch", "/v2/orders/{open}", {"GET"}),
    ("v2", "delete", "/v2/orders/{open}", {"GET"}),
    ("v2", "get", "/v2/orders/{open}/items", {"POST"}),
    ("v2", "delete", "/v2/orders/{open}/items", {"POST"}),
    ("v2", "get", "/v2/orders/{open}/items/{item}", {"DELETE"}),
    ("v2", "patch", "/v2/orders/{open}/items/{item}", {"DELETE"}),
    ("v2", "get", "/v2/orders/{open}/submit", {"POST"}),
    ("v2", "get", "/v2/orders/{open}/bill", {"POST"}),
    ("v2", "put", "/v2/orders/{open}/bill", {"POST"}),
    ("v2", "get", "/v2/orders/{billed}/payments", {"POST"}),
    ("v2", "delete", "/v2/orders/{billed}/payments", {"POST"}),
]


@pytest.mark.parametrize(
    ("version", "method", "path", "allowed"),
    WRONG_METHODS,
    ids=[f"{m.upper()} {p}" for _, m, p, _ in WRONG_METHODS],
)
def test_a_wrong_method_is_405_with_allow(
    api, orders, expect_problem, version, method, path, allowed
):
    with nothing_written():
        response = send(api, method, fill(path, orders), {"table": "12"})

        # The contract documents 405 on every operation of the path, not on the missing method.
        expect_problem(version, response, 405, method=sorted(allowed)[0])
        advertised = {m.strip() for m in response.headers["Allow"].split(",")}
        assert allowed <= advertised
        assert method.upper() not in advertised


@pytest.mark.parametrize("operation", BODY_OPERATIONS, ids=operation_id)
def test_a_body_over_one_mebibyte_is_413(api, orders, expect_problem, operation):
    version, method, path = operation
    body = {**valid_body(version, path, orders), "padding": "x" * (1024 * 1024)}

    with nothing_written():
        response = send(api, method, fill(path, orders), body)

        problem = expect_problem(version, response, 413, type=problems.BODY_TOO_LARGE)
        assert problem["limit"] == django_settings.MAX_REQUEST_BODY_BYTES


@pytest.mark.parametrize("operation", ONE_PER_PATH, ids=operation_id)
def test_an_unsatisfiable_accept_is_406(api, orders, expect_problem, operation):
    version, method, path = operation
    body = valid_body(version, path, orders) if method == "post" else b""

    with nothing_written():
        response = send(api, method, fill(path, orders), body, HTTP_ACCEPT="text/html")

        expect_problem(version, response, 406)


@pytest.mark.parametrize("operation", ONE_PER_PATH, ids=operation_id)
def test_too_many_query_parameters_is_400(api, orders, expect_problem, operation):
    version, method, path = operation
    query = "&".join(f"x{n}=1" for n in range(django_settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    body = valid_body(version, path, orders) if method == "post" else b""

    with nothing_written():
        response = send(api, method, f"{fill(path, orders)}?{query}", body)

        expect_problem(version, response, 400)


@pytest.mark.parametrize(
    "operation", [op for op in ONE_PER_PATH if op[1] != "get"], ids=operation_id
)
@pytest.mark.parametrize("value", ["", "x" * 256, "ünï"], ids=repr)
def test_an_unusable_idempotency_key_is_400(api, orders, expect_problem, operation, value):
    version, method, path = operation
    body = valid_body(version, path, orders)

    with nothing_written():
        response = send(
            api,
            method,
            fill(path, orders),
            b"" if body is None else body,
            HTTP_IDEMPOTENCY_KEY=value,
        )

        expect_problem(version, response, 400)


# -- Path ids ---------------------------------------------------------------------------------

# Refused by the URL (zero, too long for a 64-bit column, not a number), or absent from the table.
BAD_IDS = ["0", "9" * 19, str(10**30), "abc", "-1", str(MAX_DB_INT), str(ABSENT_ID)]


@pytest.mark.parametrize("operation", ID_OPERATIONS, ids=operation_id)
@pytest.mark.parametrize("bad_id", BAD_IDS)
def test_an_id_that_names_nothing_is_404(api, orders, expect_problem, operation, bad_id):
    version, method, path = operation
    body = valid_body(version, path, orders) if method == "post" else b""

    with nothing_written():
        response = send(api, method, fill(path, orders, id=bad_id), body)

        expect_problem(version, response, 404)


# -- Members of the body ----------------------------------------------------------------------

V1_ORDER = ("v1", "post", "/v1/orders")
V1_ITEM = ("v1", "post", "/v1/orders/{open}/items")
V1_PAY = ("v1", "post", "/v1/payments")
V2_ORDER = ("v2", "post", "/v2/orders")
V2_ITEMS = ("v2", "post", "/v2/orders/{open}/items")
V2_BILL = ("v2", "post", "/v2/orders/{open}/bill")
V2_PAY = ("v2", "post", "/v2/orders/{billed}/payments")

ITEM = {"item": "tea", "diner": "Kim"}
CASH = {"method": "cash", "amount": 100}


def v1_pay(**changes):
    # order_id is filled in per test: the open order (v1 bills it on the first payment).
    return {"order_id": "{open}", "payer": "Kim", "amount": 100, "card": card(), **changes}


def v2_pay(*payments):
    return {"payments": list(payments)}


def card_payment(**card_changes):
    return {"method": "card", "amount": 100, "card": card(**card_changes)}


INVALID_MEMBERS = [
    # Orders, both versions
    *[
        (op, body, {"#/table"}, f"{op[0]} {name}")
        for op in (V1_ORDER, V2_ORDER)
        for body, name in (
            ({}, "no table"),
            ({"table": 12}, "number table"),
            ({"table": ["12"]}, "list table"),
            ({"table": ""}, "empty table"),
            ({"table": "  "}, "blank table"),
            ({"table": None}, "null table"),
            ({"table": "t" * 21}, "over-long table"),
            ({"table": "1\x002"}, "NUL table"),
        )
    ],
    # v1: an item
    (V1_ITEM, {}, {"#/item", "#/diner"}, "nothing"),
    (V1_ITEM, {"item": 7, "diner": ["Kim"]}, {"#/item", "#/diner"}, "wrong types"),
    (V1_ITEM, {**ITEM, "item": "lobster"}, {"#/item"}, "not on the menu"),
    (V1_ITEM, {**ITEM, "item": "x" * 41}, {"#/item"}, "over-long item"),
    (V1_ITEM, {**ITEM, "diner": "d" * 101}, {"#/diner"}, "over-long diner"),
    (V1_ITEM, {**ITEM, "diner": ""}, {"#/diner"}, "empty diner"),
    *[
        (V1_ITEM, {**ITEM, "quantity": q}, {"#/quantity"}, f"quantity {q!r}")
        for q in (0, -1, 21, "2", 1.5, True, None, 10**30)
    ],
    # v1: a payment
    (V1_PAY, {}, {"#/order_id", "#/payer", "#/amount", "#/card"}, "nothing"),
    *[
        (V1_PAY, v1_pay(order_id=v), {"#/order_id"}, f"order_id {v!r}")
        for v in ("1", 0, -1, 1.5, True, None, 2**63, ABSENT_ID)
    ],
    *[
        (V1_PAY, v1_pay(amount=v), {"#/amount"}, f"amount {v!r}")
        for v in (-100, 0, "100", 1.5, True, None, 10**8, -(2**63))
    ],
    (V1_PAY, v1_pay(payer=""), {"#/payer"}, "empty payer"),
    (V1_PAY, v1_pay(card=None), {"#/card"}, "null card"),
    (V1_PAY, v1_pay(card=VISA), {"#/card"}, "card as a string"),
    (
        V1_PAY,
        v1_pay(card={}),
        {"#/card/number", "#/card/exp_month", "#/card/exp_year", "#/card/cvc"},
        "empty card",
    ),
    (V1_PAY, v1_pay(card=card(number="4242424242424241")), {"#/card/number"}, "bad check digit"),
    (V1_PAY, v1_pay(card=card(number=4242424242424242)), {"#/card/number"}, "number as number"),
    (
        V1_PAY,
        v1_pay(card=card(exp_month=13, exp_year=99)),
        {"#/card/exp_month", "#/card/exp_year"},
        "dates",
    ),
    (V1_PAY, v1_pay(card=card(cvc=987)), {"#/card/cvc"}, "cvc as number"),
    # v2: items
    (V2_ITEMS, {}, {"#/items"}, "nothing"),
    (V2_ITEMS, {"items": []}, {"#/items"}, "no items"),
    (V2_ITEMS, {"items": ITEM}, {"#/items"}, "an object, not a list"),
    (V2_ITEMS, {"items": "tea"}, {"#/items"}, "a string, not a list"),
    (V2_ITEMS, {"items": [ITEM] * 21}, {"#/items"}, "too many"),
    (V2_ITEMS, {"items": ["tea"]}, {"#/items/0"}, "a string item"),
    (V2_ITEMS, {"items": [ITEM, {}]}, {"#/items/1/item", "#/items/1/diner"}, "empty item"),
    (
        V2_ITEMS,
        {"items": [ITEM, {**ITEM, "item": "lobster"}, {**ITEM, "item": "caviar"}]},
        {"#/items/1/item", "#/items/2/item"},
        "not on the menu",
    ),
    *[
        (V2_ITEMS, {"items": [{**ITEM, "quantity": q}]}, {"#/items/0/quantity"}, f"quantity {q!r}")
        for q in (0, -3, 21, "2", 2.5, False)
    ],
    # v2: bill
    *[
        (V2_BILL, {"discount_code": v}, {"#/discount_code"}, f"code {v!r}")
        for v in ("", None, 10, ["HAPPYHOUR"], "FREEFOOD", "H" * 41)
    ],
    # v2: payments
    (V2_PAY, {}, {"#/payments"}, "nothing"),
    (V2_PAY, v2_pay(), {"#/payments"}, "no payments"),
    (V2_PAY, {"payments": CASH}, {"#/payments"}, "an object, not a list"),
    (V2_PAY, v2_pay(*[CASH] * 11), {"#/payments"}, "too many"),
    (V2_PAY, v2_pay(1), {"#/payments/0"}, "a number"),
    (V2_PAY, v2_pay({}), {"#/payments/0/method", "#/payments/0/amount"}, "empty"),
    (V2_PAY, v2_pay({**CASH, "method": "bitcoin"}), {"#/payments/0/method"}, "unknown method"),
    (V2_PAY, v2_pay({"method": "card", "amount": 100}), {"#/payments/0/card"}, "card without card"),
    (V2_PAY, v2_pay({**CASH, "card": card()}), {"#/payments/0/card"}, "cash with a card"),
    *[
        (V2_PAY, v2_pay(CASH, {**CASH, "amount": v}), {"#/payments/1/amount"}, f"amount {v!r}")
        for v in (-5, 0, "5", 5.5, None, True, 10**8)
    ],
    (
        V2_PAY,
        v2_pay(card_payment(number="4242 4242 4242 4242")),
        {"#/payments/0/card/number"},
        "spaces in the number",
    ),
    (V2_PAY, v2_pay(card_payment(number="42")), {"#/payments/0/card/number"}, "short number"),
    (V2_PAY, v2_pay(card_payment(number="4" * 20)), {"#/payments/0/card/number"}, "long number"),
    (
        V2_PAY,
        v2_pay(card_payment(number="424242424242424x")),
        {"#/payments/0/card/number"},
        "letter",
    ),
    (V2_PAY, v2_pay(card_payment(exp_month=0)), {"#/payments/0/card/exp_month"}, "month 0"),
    (V2_PAY, v2_pay(card_payment(exp_year="2030")), {"#/payments/0/card/exp_year"}, "year text"),
    (V2_PAY, v2_pay(card_payment(cvc="12")), {"#/payments/0/card/cvc"}, "short cvc"),
    (V2_PAY, v2_pay(card_payment(cvc="12a")), {"#/payments/0/card/cvc"}, "letter in cvc"),
]


@pytest.mark.parametrize(
    ("operation", "body", "expected"),
    [
        pytest.param(op, body, expected, id=f"{op[1]}-{op[0]}-{op[2].split('/')[-1]}-{name}")
        for op, body, expected, name in INVALID_MEMBERS
    ],
)
def test_invalid_members_are_named_by_pointer(
    api, orders, expect_problem, operation, body, expected
):
    version, method, path = operation
    if body.get("order_id") == "{open}":
        body = {**body, "order_id": orders["open"]}

    with nothing_written():
        response = send(api, method, fill(path, orders), body)

        problem = expect_problem(version, response, 400, type=problems.VALIDATION)
        assert pointers(problem) == expected


def test_card_errors_never_repeat_the_card(api, orders, expect_problem):
    bad = card(number="4242424242424241", cvc="98x")

    response = send(
        api, "post", fill(V2_PAY[2], orders), v2_pay({**CASH, "method": "card", "card": bad})
    )

    problem = expect_problem("v2", response, 400)
    assert "4242424242424241" not in response.content.decode()
    assert "98x" not in response.content.decode()
    assert pointers(problem) == {"#/payments/0/card/number", "#/payments/0/card/cvc"}


# -- Property-based ---------------------------------------------------------------------------

FIELD_NAMES = [
    "table",
    "item",
    "diner",
    "quantity",
    "items",
    "discount_code",
    "payments",
    "method",
    "amount",
    "card",
    "order_id",
    "payer",
]
odd_text = st.text(st.characters(exclude_categories=()), max_size=20)
texts = odd_text | st.sampled_from(
    ["", " ", "\x00", "tea", "omelet", "HAPPYHOUR", "card", "cash", VISA, "4000000000000002"]
)
integers = st.integers() | st.sampled_from([0, -1, 1, 20, 21, 100, MAX_DB_INT, 2**63, 10**30])
scalars = st.none() | st.booleans() | integers | st.floats(allow_nan=False) | texts
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
cards = st.fixed_dictionaries(
    {},
    optional={
        "number": st.sampled_from([VISA, "4000000000000002", "4242424242424241"]) | json_values,
        "exp_month": st.integers(0, 13) | json_values,
        "exp_year": st.integers(1999, 2100) | json_values,
        "cvc": st.sampled_from(["123", "1234", "12"]) | json_values,
    },
)
payments = st.fixed_dictionaries(
    {},
    optional={
        "method": st.sampled_from(["card", "cash", "cheque"]) | json_values,
        "amount": st.integers(-5, 3000) | json_values,
        "card": cards | json_values,
    },
)
json_bodies = json_values | st.fixed_dictionaries(
    {},
    optional={
        "table": texts | json_values,
        "item": st.sampled_from(["tea", "omelet", "lobster"]) | json_values,
        "diner": texts | json_values,
        "quantity": integers | json_values,
        "items": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "item": st.sampled_from(["tea", "coffee", "x"]) | json_values,
                    "diner": texts,
                    "quantity": integers,
                },
            ),
            max_size=3,
        )
        | json_values,
        "discount_code": st.sampled_from(["HAPPYHOUR", "happyhour", "NOPE"]) | json_values,
        "payments": st.lists(payments, max_size=3) | json_values,
        "order_id": integers | json_values,
        "payer": texts,
        "amount": integers | json_values,
        "card": cards | json_values,
    },
)
FUZZ = settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@FUZZ
@given(body=json_bodies)
@pytest.mark.parametrize("operation", BODY_OPERATIONS, ids=operation_id)
def test_random_json_bodies_never_break_the_api(
    api, orders, expect_problem, conforms, operation, body
):
    version, method, path = operation

    with rolled_back():
        response = send(api, method, fill(path, orders), body)
        event(f"status {response.status_code}")

        assert response.status_code < 500, (response.status_code, response.content[:300])
        if response.status_code >= 400:
            expect_problem(version, response, response.status_code)
        else:
            conforms(version, response)
