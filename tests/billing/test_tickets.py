"""A declined card opens a support ticket in the tickets service: through an outbox written with
the declined payment, delivered after the commit, retried with the same Idempotency-Key, and never
in the way of the payment's own response."""

import json
import threading
from datetime import timedelta
from pathlib import Path

import pytest
import requests
import responses
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

import contracts
from contracts.validation import Contract
from services.billing import services
from services.billing.models import TicketRequest
from tests.billing.conftest import DECLINED, INSUFFICIENT_FUNDS, VISA, a_card, card, concurrently

pytestmark = pytest.mark.django_db

TICKETS_API = "http://tickets.test"
TICKETS_URL = f"{TICKETS_API}/v1/tickets"
EXPECTED = yaml.safe_load((Path(__file__).parent / "tickets_v1_expected.yaml").read_text())
PUBLISHED = contracts.contract_path("tickets", "v1")
NOT_PUBLISHED = (
    "contracts/tickets/v1.yaml is not published yet (the tickets service is being built); "
    "this consumer test runs against it once it is"
)
needs_published_contract = pytest.mark.skipif(not PUBLISHED.is_file(), reason=NOT_PUBLISHED)


@pytest.fixture(params=["published", "expected"])
def tickets_contract(request, monkeypatch) -> Contract:
    """The tickets v1 contract the client is driven by: the published one (skipped until it
    exists), and billing's own copy of what it expects of it."""
    if request.param == "published":
        if not PUBLISHED.is_file():
            pytest.skip(NOT_PUBLISHED)
        return Contract.published("tickets", "v1")
    real_load = contracts.load

    def load(service, version, *args, **kwargs):
        if (service, version) == ("tickets", "v1"):
            return EXPECTED
        return real_load(service, version, *args, **kwargs)

    monkeypatch.setattr(contracts, "load", load)
    return Contract(EXPECTED, service="tickets", version="v1")


class TicketsApi:
    """The tickets service as ``responses`` plays it: one ticket per Idempotency-Key."""

    def __init__(self, mock: responses.RequestsMock):
        self.mock = mock
        self.tickets: dict[str, dict] = {}
        self.down = False
        mock.add_callback(responses.POST, TICKETS_URL, callback=self.create)

    def create(self, request):
        if self.down:
            raise requests.ConnectionError("connection refused")
        key = request.headers.get("Idempotency-Key")
        if key not in self.tickets:
            self.tickets[key] = {"id": len(self.tickets) + 1, **json.loads(request.body)}
        return 201, {"Content-Type": "application/json"}, json.dumps(self.tickets[key])

    @property
    def keys_sent(self) -> list[str]:
        return [call.request.headers.get("Idempotency-Key") for call in self.mock.calls]


@pytest.fixture
def tickets_api(tickets_contract, settings):
    settings.TICKETS_API = TICKETS_API
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield TicketsApi(mock)


def decline(make_order, number=DECLINED):
    order = make_order(bill=True)
    [payment] = services.order_pay(
        order_id=order.pk,
        payments=[services.PaymentRequest(method="card", amount=1000, card=a_card(number))],
    )
    return order, payment


# -- What billing sends ---------------------------------------------------------------------------


def test_the_payload_has_the_shape_billing_expects_of_the_tickets_contract(make_order):
    order, _ = decline(make_order)
    request = TicketRequest.objects.get()

    errors = Contract(EXPECTED).request_errors("POST", "/v1/tickets", body=request.payload)

    assert errors == []
    assert request.payload["subject"] == f"Card declined for order {order.pk}"
    assert request.payload["requester"] == "billing@switchyard.dev"
    assert request.payload["order_ref"] == f"order-{order.pk}"
    assert "card_declined" in request.payload["body"]
    assert "visa ending in 0002" in request.payload["body"]
    assert DECLINED not in json.dumps(request.payload)


def test_the_expected_shape_refuses_what_the_tickets_service_would(make_order):
    # The local copy is only worth something if it can fail.
    expected = Contract(EXPECTED)

    assert expected.request_errors("POST", "/v1/tickets", body={"subject": "x"})
    assert expected.request_errors(
        "POST",
        "/v1/tickets",
        body={"subject": "x", "body": "y", "requester": "billing@switchyard.dev", "card": "1"},
    )


@needs_published_contract
def test_the_payload_conforms_to_the_published_tickets_contract(make_order):
    decline(make_order)
    published = Contract.published("tickets", "v1")
    operation = published.operation("ticket_create")

    errors = published.request_errors(
        operation.method,
        operation.path,
        body=TicketRequest.objects.get().payload,
        headers={"Idempotency-Key": "payment-1-declined"},
    )

    assert (operation.method, operation.path) == ("post", "/v1/tickets")
    assert errors == []


@needs_published_contract
def test_the_published_ticket_create_accepts_an_idempotency_key():
    operation = Contract.published("tickets", "v1").operation("ticket_create")

    headers = {p["name"] for p in operation.spec.get("parameters", []) if p.get("in") == "header"}
    assert "Idempotency-Key" in headers


def test_only_a_declined_card_asks_for_a_ticket(make_order):
    order = make_order(bill=True)

    services.order_pay(
        order_id=order.pk,
        payments=[
            services.PaymentRequest(method="card", amount=100, card=a_card(VISA)),
            services.PaymentRequest(method="cash", amount=100),
            services.PaymentRequest(method="card", amount=100, card=a_card(INSUFFICIENT_FUNDS)),
        ],
    )

    [request] = TicketRequest.objects.all()
    assert "insufficient_funds" in request.body


def test_the_outbox_row_is_written_with_the_payment_or_not_at_all(make_order, send):
    order = make_order(bill=True)  # 2200: asking for more pays nothing and asks for no ticket
    body = {
        "payments": [
            {"method": "card", "amount": 100, "card": card(DECLINED)},
            {"method": "cash", "amount": 2200},
        ]
    }

    assert send("post", f"/v2/orders/{order.pk}/payments", body).status_code == 409

    assert not TicketRequest.objects.exists()


# -- Delivery -------------------------------------------------------------------------------------


def test_send_ticket_requests_opens_the_ticket(make_order, tickets_api):
    _, payment = decline(make_order)

    call_command("send_ticket_requests", stdout=(out := _Out()))

    assert "1 sent, 0 failed, 0 still pending" in out.text
    request = TicketRequest.objects.get()
    assert (request.status, request.attempts, request.ticket_ref) == ("sent", 1, "1")
    assert request.sent_at is not None
    [call] = tickets_api.mock.calls
    assert call.request.headers["Idempotency-Key"] == f"payment-{payment.pk}-declined"
    assert call.request.headers["Content-Type"] == "application/json"
    assert json.loads(call.request.body) == request.payload


def test_retries_send_the_same_key_and_open_one_ticket(make_order, tickets_api):
    _, payment = decline(make_order)
    tickets_api.down = True

    call_command("send_ticket_requests", stdout=_Out())
    call_command("send_ticket_requests", stdout=_Out())
    pending = TicketRequest.objects.get()
    tickets_api.down = False
    call_command("send_ticket_requests", stdout=_Out())
    call_command("send_ticket_requests", stdout=_Out())  # nothing left to send

    assert (pending.status, pending.attempts) == ("pending", 2)
    assert "unreachable" in pending.last_error
    sent = TicketRequest.objects.get()
    assert (sent.status, sent.attempts) == ("sent", 3)
    key = f"payment-{payment.pk}-declined"
    assert set(tickets_api.keys_sent) == {key}
    assert len(tickets_api.keys_sent) >= 3  # the client's own retries use the key too
    assert list(tickets_api.tickets) == [key]


def test_a_retry_after_a_lost_answer_still_opens_one_ticket(make_order, tickets_api):
    # The ticket was created but the answer never came back: the retry is told about the same one.
    _, payment = decline(make_order)
    key = f"payment-{payment.pk}-declined"
    tickets_api.tickets[key] = {"id": 41}

    call_command("send_ticket_requests", stdout=_Out())

    assert TicketRequest.objects.get().ticket_ref == "41"
    assert list(tickets_api.tickets) == [key]


def test_a_request_the_tickets_service_refuses_is_not_retried(
    make_order, tickets_contract, settings
):
    settings.TICKETS_API = TICKETS_API
    decline(make_order)
    with responses.RequestsMock() as mock:
        mock.add(
            responses.POST,
            TICKETS_URL,
            status=422,
            json={"type": "about:blank", "title": "Unprocessable", "status": 422},
            content_type="application/problem+json",
        )
        call_command("send_ticket_requests", stdout=_Out())
        call_command("send_ticket_requests", stdout=_Out())

        assert len(mock.calls) == 1
    request = TicketRequest.objects.get()
    assert (request.status, request.attempts) == ("failed", 1)


def test_without_a_tickets_service_configured_requests_wait(make_order, tickets_contract):
    decline(make_order)

    call_command("send_ticket_requests", stdout=(out := _Out()))

    assert "0 sent, 0 failed, 1 still pending" in out.text
    request = TicketRequest.objects.get()
    assert (request.status, request.attempts) == ("pending", 1)
    assert "TICKETS_API is not set" in request.last_error


def test_a_request_being_sent_elsewhere_is_left_alone(make_order, tickets_api):
    decline(make_order)
    TicketRequest.objects.update(leased_until=timezone.now() + timedelta(seconds=30))

    assert services.ticket_requests_send() == {}
    assert len(tickets_api.mock.calls) == 0

    TicketRequest.objects.update(leased_until=timezone.now() - timedelta(seconds=1))
    assert services.ticket_requests_send() == {"sent": 1}


def test_loop_needs_a_positive_interval():
    with pytest.raises(CommandError, match="positive"):
        call_command("send_ticket_requests", "--loop", "0")


class _Out:
    def __init__(self):
        self.text = ""

    def write(self, text):
        self.text += text

    def flush(self):
        pass


# -- After the commit, in the background (PostgreSQL: real connections) --------------------------


def join_senders():
    for thread in threading.enumerate():
        if thread.name == services.TICKET_THREAD_NAME:
            thread.join(timeout=30)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_declined_card_opens_exactly_one_ticket_even_when_tickets_is_down(
    make_order, tickets_api, api
):
    order = make_order(bill=True)
    body = {"payments": [{"method": "card", "amount": 1000, "card": card(DECLINED)}]}
    tickets_api.down = True

    response = api.post(
        f"/v2/orders/{order.pk}/payments", body, format="json", HTTP_IDEMPOTENCY_KEY="decline-1"
    )
    join_senders()

    # The payment's answer did not depend on the tickets service.
    assert response.status_code == 201
    [payment] = response.json()["payments"]
    assert (payment["status"], payment["failure_code"]) == ("declined", "card_declined")
    key = f"payment-{payment['id']}-declined"
    request = TicketRequest.objects.get()
    assert (request.status, request.attempts) == ("pending", 1)
    assert set(tickets_api.keys_sent) == {key}

    # The client retries the payment (same key): replayed, and no second ticket request.
    tickets_api.down = False
    again = api.post(
        f"/v2/orders/{order.pk}/payments", body, format="json", HTTP_IDEMPOTENCY_KEY="decline-1"
    )
    join_senders()
    assert again.content == response.content
    assert TicketRequest.objects.count() == 1

    # The worker's retries, two at once and again later: one ticket, always the same key.
    concurrently([services.ticket_requests_send, services.ticket_requests_send], workers=2)
    call_command("send_ticket_requests", stdout=_Out())

    assert TicketRequest.objects.get().status == "sent"
    assert set(tickets_api.keys_sent) == {key}
    assert list(tickets_api.tickets) == [key]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_ticket_is_sent_right_after_the_payment_commits(make_order, tickets_api, api):
    order = make_order(bill=True)

    response = api.post(
        f"/v2/orders/{order.pk}/payments",
        {"payments": [{"method": "card", "amount": 1000, "card": card(DECLINED)}]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="decline-2",
        HTTP_X_REQUEST_ID="req-decline-2",
    )
    join_senders()

    assert response.status_code == 201
    request = TicketRequest.objects.get()
    assert (request.status, request.attempts) == ("sent", 1)
    [call] = tickets_api.mock.calls
    assert call.request.headers["X-Request-ID"] == "req-decline-2"
