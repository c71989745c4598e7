"""Consumer contract tests: the calls the tickets service makes to the FAQ.

What a promotion sends must be a request the FAQ's COMMITTED contract accepts, and every answer
that contract documents for ``faq_create`` must lead to a decided outcome: ``done`` with the entry
id, ``failed`` with the FAQ's reason, or ``pending`` to be retried. The mocked answers are checked
against the same contract, so a change the FAQ publishes fails here before it fails in production.
"""

import json
from http import HTTPStatus

import pytest
import requests
import responses
from openapi_schema_validator import OAS30Validator

import contracts
from contracts.validation import operations
from services.tickets import services
from services.tickets.models import FaqPromotion
from tests.tickets.conftest import ANSWER
from tests.tickets.fakes import (
    FAQ_API,
    FAQ_KEY,
    JSON,
    PROBLEM,
    FakeFaq,
    faq_entry,
    path_of,
    request_errors,
    sent_json,
)

pytestmark = pytest.mark.django_db

VERSIONS = ["v1", "v2"]
TYPE_BASE = "https://switchyard.dev/problems/"

# What the tickets service does with each answer faq_create documents.
OUTCOMES = {
    "201": FaqPromotion.Status.SENT,
    "400": FaqPromotion.Status.FAILED,  # our payload, or an unknown related entry
    "405": FaqPromotion.Status.FAILED,
    "406": FaqPromotion.Status.FAILED,
    "409": FaqPromotion.Status.PENDING,  # our key is still in flight there: retry later
    # Our key created an entry that someone deleted since: a person decides, not a retry.
    "410": FaqPromotion.Status.FAILED,
    "413": FaqPromotion.Status.FAILED,
    "414": FaqPromotion.Status.FAILED,
    "415": FaqPromotion.Status.FAILED,
    "422": FaqPromotion.Status.FAILED,  # our key was used with another body: a bug, not a retry
    "431": FaqPromotion.Status.FAILED,
    "500": FaqPromotion.Status.PENDING,
}


def documented(version: str) -> list[str]:
    """The statuses the FAQ's committed contract documents for faq_create."""
    return sorted(operations(contracts.load("faq", version))["faq_create"].spec["responses"])


def problem(status: int, detail: str, **members) -> dict:
    return {
        "type": members.pop("type", "about:blank"),
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "request_id": "2b1f0c9e8d7a4b6c9e0f1a2b3c4d5e6f",
        **members,
    }


PROBLEMS = {
    400: problem(
        400,
        "1 field failed validation; see errors.",
        type=TYPE_BASE + "validation-error",
        title="Your request is not valid",
        errors=[
            {
                "pointer": "#/related",
                "detail": "There is no FAQ entry with id 998.",
                "code": "invalid",
            }
        ],
    ),
    405: problem(405, 'Method "POST" not allowed.'),
    406: problem(406, "Could not satisfy the request Accept header."),
    409: problem(
        409,
        "A request with Idempotency-Key 'ticket-1-promotion' is still being handled; retry "
        "shortly.",
        type=TYPE_BASE + "idempotency",
    ),
    410: problem(
        410,
        "The request with Idempotency-Key 'ticket-1-promotion' was done and created "
        "/faq/v2/faqs/17, which has been deleted since; nothing was done again.",
        type=TYPE_BASE + "idempotency",
    ),
    413: problem(
        413,
        "The body is 2097152 bytes; the limit is 1048576 bytes.",
        type=TYPE_BASE + "body-too-large",
        limit=1048576,
    ),
    414: problem(414, "The request line is too long."),
    415: problem(415, 'Unsupported media type "text/plain" in request.'),
    422: problem(
        422,
        "Idempotency-Key 'ticket-1-promotion' was used for a different request; use a new key.",
        type=TYPE_BASE + "idempotency",
    ),
    431: problem(431, "The request's header fields are too large or too many."),
    500: problem(500, "The server failed to handle this request; it has been logged."),
}


def answer(version: str, status: int) -> tuple[bytes, str]:
    if status == 201:
        payload = {"question": "Q?", "answer": ANSWER, "source": "1"}
        if version == "v2":
            payload["source"] = {"kind": "ticket", "ref": "1"}
        return json.dumps(faq_entry(version, 17, payload)).encode(), JSON
    return json.dumps(PROBLEMS[status]).encode(), PROBLEM


def expected_payload(version: str, promotion: FaqPromotion, related=()) -> dict:
    ticket = promotion.ticket
    if version == "v1":
        return {"question": ticket.subject, "source": str(ticket.pk), "answer": ANSWER}
    return {
        "question": ticket.subject,
        "answer": ANSWER,
        "source": {"kind": "ticket", "ref": str(ticket.pk)},
        "related": list(related),
    }


# -- What we send -----------------------------------------------------------------------------


@pytest.mark.parametrize(("version", "related"), [("v1", ()), ("v2", ()), ("v2", (9, 3))])
def test_the_promotion_request_is_one_the_faq_contract_accepts(
    faq, faq_contracts, promote, version, related
):
    fake = FakeFaq(faq, version)

    promotion = promote(version, related=related)

    [request] = fake.requests
    assert request_errors(faq_contracts[version], request) == []
    assert (request.method, path_of(request)) == ("POST", f"/{version}/faqs")
    assert sent_json(request) == expected_payload(version, promotion, related)
    assert request.headers["Idempotency-Key"] == f"ticket-{promotion.ticket_id}-promotion"
    assert request.headers["Authorization"] == f"Bearer {FAQ_KEY}"
    assert request.headers["Content-Type"] == JSON
    assert promotion.payload == sent_json(request)
    assert (promotion.status, promotion.faq_entry_id, promotion.attempts) == ("sent", 41, 1)
    assert promotion.last_error == ""
    assert promotion.delivered_at is not None


def test_the_request_check_is_not_vacuous(faq, faq_contracts, promote):
    # The same check refuses what v2 would refuse: a v1 body sent to v2.
    fake = FakeFaq(faq, "v1")
    promote("v1")
    [request] = fake.requests

    assert request_errors(faq_contracts["v1"], request) == []
    request.url = f"{FAQ_API}/v2/faqs"
    assert request_errors(faq_contracts["v2"], request) != []


def test_a_payload_that_breaks_the_contract_is_never_sent(faq, make_ticket):
    ticket = make_ticket(status="resolved")
    promotion = FaqPromotion.objects.create(
        ticket=ticket,
        faq_version="v2",
        payload={"question": "Q?", "source": {"kind": "fax"}},
        idempotency_key=f"ticket-{ticket.pk}-promotion",
    )

    services.promotion_deliver(promotion_id=promotion.pk)

    promotion.refresh_from_db()
    assert len(faq.calls) == 0
    assert promotion.status == "failed"
    assert promotion.last_error.startswith("Not sent: faq v2 faq_create")


# -- What we do with each answer --------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_every_status_the_faq_documents_has_a_decided_outcome(version):
    # A status the FAQ starts documenting must be decided here first.
    assert set(documented(version)) <= set(OUTCOMES), set(documented(version)) - set(OUTCOMES)


@pytest.mark.parametrize(
    ("version", "status"), [(v, s) for v in VERSIONS for s in documented(v)], ids=str
)
def test_each_documented_faq_create_answer_is_handled(faq, faq_contracts, promote, version, status):
    body, content_type = answer(version, int(status))
    assert (
        faq_contracts[version].response_errors(
            "post", f"/{version}/faqs", status=int(status), body=body, content_type=content_type
        )
        == []
    )
    faq.add(
        responses.POST,
        f"{FAQ_API}/{version}/faqs",
        body=body,
        status=int(status),
        content_type=content_type,
    )

    promotion = promote(version)

    assert promotion.status == OUTCOMES[status]
    assert promotion.attempts == 1
    assert len(faq.calls) == 1
    if promotion.status == "sent":
        assert (promotion.faq_entry_id, promotion.last_error) == (17, "")
        return
    assert promotion.faq_entry_id is None
    assert promotion.delivered_at is None
    assert f"faq {version} faq_create -> {status}: " in promotion.last_error
    assert PROBLEMS[int(status)]["detail"] in promotion.last_error
    if status == "400":
        assert "#/related: There is no FAQ entry with id 998." in promotion.last_error


def problem_schema(document: dict) -> dict:
    """The contract's Problem schema with its references inlined, for a plain schema check."""

    def inline(node):
        if isinstance(node, dict):
            if "$ref" in node:
                return inline(document["components"]["schemas"][node["$ref"].split("/")[-1]])
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(item) for item in node]
        return node

    return inline(document["components"]["schemas"]["Problem"])


# Answers of the way there, not of the FAQ: its contract does not list them, but they are problem
# documents of the shape it defines.
GATEWAY_ANSWERS = {
    401: ("failed", "Send your API key as `Authorization: Bearer <key>`.", "GATEWAY_API_KEY"),
    403: ("failed", "Calls must come through the gateway.", "GATEWAY_API_KEY"),
    410: ("failed", "faq v1 was switched off on 2027-05-01; use v2.", "switched off"),
    429: ("pending", "Too many calls; retry in 12 seconds.", "429"),
    502: ("pending", "The faq service could not be reached.", "502"),
    503: ("pending", "The faq service is failing; calls are paused.", "503"),
    504: ("pending", "The faq service did not answer in time.", "504"),
}


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("status", GATEWAY_ANSWERS, ids=str)
def test_each_answer_of_the_gateway_is_handled(faq, faq_contracts, promote, version, status):
    outcome, detail, hint = GATEWAY_ANSWERS[status]
    body = problem(status, detail)
    OAS30Validator(problem_schema(faq_contracts[version].document)).validate(body)
    faq.add(responses.POST, f"{FAQ_API}/{version}/faqs", json=body, status=status)

    promotion = promote(version)

    assert promotion.status == outcome
    assert detail in promotion.last_error
    assert hint in promotion.last_error
    assert promotion.faq_entry_id is None


NO_ANSWER = {
    "connection refused": (requests.ConnectionError("Connection refused"), 3, "unreachable"),
    "connect timeout": (requests.ConnectTimeout("timed out"), 3, "unreachable"),
    # The FAQ may have the request: no blind retry inside the call; the next run resends it.
    "read timeout": (requests.ReadTimeout("timed out"), 1, "did not answer faq_create in time"),
}


@pytest.mark.parametrize(("error", "tries", "said"), NO_ANSWER.values(), ids=NO_ANSWER.keys())
def test_no_answer_leaves_the_promotion_pending(faq, promote, error, tries, said):
    faq.add(responses.POST, f"{FAQ_API}/v2/faqs", body=error)

    # Right after the commit, while the caller waits: one try, no back-off.
    promotion = promote("v2")
    assert (promotion.status, promotion.attempts, len(faq.calls)) == ("pending", 1, 1)

    # The worker's attempt: the client retries a keyed call on connection errors, same key.
    services.promotion_deliver(promotion_id=promotion.pk)

    promotion.refresh_from_db()
    assert (promotion.status, promotion.attempts) == ("pending", 2)
    assert said in promotion.last_error
    assert len(faq.calls) == 1 + tries
    keys = {call.request.headers["Idempotency-Key"] for call in faq.calls}
    assert keys == {f"ticket-{promotion.ticket_id}-promotion"}


def test_without_faq_api_the_promotion_waits(faq, settings, promote):
    settings.FAQ_API = ""

    promotion = promote("v2")

    assert promotion.status == "pending"
    assert "FAQ_API is not set" in promotion.last_error
    assert len(faq.calls) == 0


def test_a_lost_answer_is_retried_with_the_same_key_and_body(faq, promote):
    # The FAQ created the entry, then the connection broke, twice; the client's own retry of the
    # worker's attempt gets the FAQ's replay of its first answer.
    fake = FakeFaq(faq, "v2", lose=2)
    promotion = promote("v2")
    assert promotion.status == "pending"

    services.promotion_deliver(promotion_id=promotion.pk)

    promotion.refresh_from_db()
    assert (promotion.status, promotion.faq_entry_id) == ("sent", 41)
    assert fake.keys() == [f"ticket-{promotion.ticket_id}-promotion"] * 3
    assert len({request.body for request in fake.requests}) == 1
    assert list(fake.entries) == [41]


def test_an_unusable_faq_api_leaves_the_promotion_pending(faq, settings, promote):
    settings.FAQ_API = "faq.internal:8001"  # no scheme

    promotion = promote("v2")

    assert promotion.status == "pending"
    assert promotion.last_error.startswith("faq: ")
    assert len(faq.calls) == 0
