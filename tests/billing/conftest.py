import datetime as dt
import json
import uuid

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from services.billing import processors, services
from tests.helpers import conformance, published_contracts

VISA = "4242424242424242"
MASTERCARD = "5555555555554444"
DECLINED = "4000000000000002"
INSUFFICIENT_FUNDS = "4000000000009995"
PROCESSING_ERROR = "4000000000000119"
UNKNOWN = "4111111111111111"  # passes the Luhn check; not one of the sandbox's cards
CVC = "987"

# The seed's table: John's salad and juice, Jane's omelet, Derek's coffee.
TABLE = [("salad", "John"), ("juice", "John"), ("omelet", "Jane"), ("coffee", "Derek")]


def card(number: str = VISA, *, cvc: str = CVC, **changes) -> dict:
    expires = timezone.now().date() + dt.timedelta(days=3 * 365)
    details = {"number": number, "exp_month": expires.month, "exp_year": expires.year, "cvc": cvc}
    return {**details, **changes}


def a_card(number: str = VISA) -> processors.Card:
    return processors.Card(**card(number))


def key() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, settings):
    # Wherever the tests run, they never reach a real tickets service, and a test that changes
    # the processor setting is not undone by a cached class.
    settings.TICKETS_API = ""
    settings.GATEWAY_API_KEY = ""
    settings.BILLING_CARD_PROCESSOR = "services.billing.processors.SandboxCardProcessor"
    processors._processor_class.cache_clear()
    yield
    processors._processor_class.cache_clear()


@pytest.fixture
def send(api):
    """A mutating call as a well-behaved client makes it: JSON, with a fresh Idempotency-Key."""

    def call(method: str, path: str, body=None, *, idempotency_key: str | None = None, **extra):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        return api.generic(
            method.upper(),
            path,
            b"" if body is None else data,
            content_type="application/json" if body is not None else None,
            HTTP_IDEMPOTENCY_KEY=idempotency_key or key(),
            **extra,
        )

    return call


@pytest.fixture
def make_order(db):
    """An order through the service layer, as any API version would make it."""

    def make(
        items=TABLE,
        *,
        table: str = "12",
        submit: bool = False,
        bill: bool = False,
        discount_code: str = "",
    ):
        order = services.order_create(table=table)
        if items:
            services.order_items_add(
                order_id=order.pk,
                items=[services.NewItem(item=item, diner=diner) for item, diner in items],
            )
        if submit:
            services.order_submit(order_id=order.pk)
        if bill:
            services.order_bill(order_id=order.pk, discount_code=discount_code)
        order.refresh_from_db()
        return order

    return make


@pytest.fixture(scope="session")
def contracts():
    """The committed billing contracts, by version."""
    return published_contracts("billing")


@pytest.fixture
def conforms(contracts):
    """Assert that a test-client response is what the committed contract promises."""
    return conformance(contracts)


def concurrently(actions, *, workers: int = 25) -> list[tuple[object, BaseException | None]]:
    """Run the actions at once on ``workers`` threads, each call on a database connection of its
    own (closed when it is done, as at the end of a request); their results and errors, in order.

    Bounded so that a suite on a shared PostgreSQL server stays well inside its connection limit.
    """
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    def run(action):
        try:
            return action(), None
        except BaseException as exc:
            return None, exc
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, actions))
