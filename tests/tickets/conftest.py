import pytest
import responses as responses_lib
from rest_framework.test import APIClient

from contracts.validation import Contract
from services.kit import client
from services.tickets import services
from services.tickets.models import FaqPromotion
from tests.helpers import conformance, published_contracts
from tests.tickets.fakes import FAQ_API, FAQ_KEY


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def make_ticket(db):
    """Create a ticket through the service layer, as any API version would."""

    def make(
        subject="My card was declined",
        body="Please help.",
        requester_email="ada@example.com",
        requester_name="",
        order_ref="",
        status=None,
    ):
        ticket = services.ticket_create(
            subject=subject,
            body=body,
            requester_email=requester_email,
            requester_name=requester_name,
            order_ref=order_ref,
        )
        if status == "resolved":
            services.ticket_resolve(ticket_id=ticket.pk, answer="Fixed.")
        elif status is not None:
            services.ticket_transition(ticket_id=ticket.pk, status=status)
        ticket.refresh_from_db()
        return ticket

    return make


@pytest.fixture(scope="session")
def contracts():
    """The committed tickets contracts, by version."""
    return published_contracts("tickets")


@pytest.fixture
def conforms(contracts):
    """Assert that a test-client response is what the committed contract promises."""
    return conformance(contracts)


@pytest.fixture(scope="session")
def faq_contracts():
    """The FAQ's committed contracts: what the provider promises the tickets service."""
    return {version: Contract.published("faq", version) for version in ("v1", "v2")}


@pytest.fixture
def faq(monkeypatch, settings):
    """The FAQ as the tickets service reaches it (``FAQ_API``), answered by ``responses``.

    Nothing is registered: a test says what the FAQ answers. An unregistered call fails the test
    with a ConnectionError the client reports as the FAQ being unreachable."""
    settings.FAQ_API = FAQ_API
    settings.GATEWAY_API_KEY = FAQ_KEY
    monkeypatch.setattr(client, "_sessions", {})
    with responses_lib.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


ANSWER = "Your bank blocked the payment; it goes through once they allow it."


@pytest.fixture
def promote(make_ticket, django_capture_on_commit_callbacks):
    """Resolve a ticket with promotion through this FAQ version, run what the commit triggers
    (the first delivery attempt), and return the promotion as stored."""

    def run(version="v2", related=(), ticket=None) -> FaqPromotion:
        ticket = ticket or make_ticket(subject="Why was my card declined?")
        request = services.PromotionRequest(faq_version=version, related=tuple(related))
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            services.ticket_resolve(ticket_id=ticket.pk, answer=ANSWER, promote=request)
        assert len(callbacks) == 1
        return FaqPromotion.objects.get(ticket=ticket)

    return run
