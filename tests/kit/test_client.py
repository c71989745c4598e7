"""The service client takes its configuration from settings and fails only with ServiceError."""

import json

import pytest
import requests
import responses

from services.kit import client
from services.kit.client import (
    ContractViolation,
    NoContract,
    ServiceClient,
    ServiceError,
    ServiceUnavailable,
)
from services.kit.logging import request_id_var


@pytest.fixture(autouse=True)
def _fresh_sessions(monkeypatch):
    monkeypatch.setattr(client, "_sessions", {})


def test_where_and_how_it_calls_come_from_settings(settings):
    settings.FAQ_API = "http://faq.test/"
    settings.GATEWAY_API_KEY = "sy_key"
    settings.SERVICE_CLIENT_CONNECT_TIMEOUT = 0.5
    settings.SERVICE_CLIENT_READ_TIMEOUT = 3.0

    faq = ServiceClient("faq", "v2")

    assert (faq.base_url, faq.api_key, faq.timeout) == ("http://faq.test", "sy_key", (0.5, 3.0))


def test_without_a_base_url_it_says_which_setting_is_missing(settings):
    settings.TICKETS_API = ""

    with pytest.raises(ServiceError, match="TICKETS_API is not set"):
        ServiceClient("tickets", "v1")


def test_the_pool_size_is_a_setting(settings):
    settings.SERVICE_CLIENT_POOL_SIZE = 3

    session = client._new_session("http://faq.test")

    assert session.get_adapter("http://faq.test")._pool_maxsize == 3


def test_one_session_per_base_url():
    first = client.pooled(client._sessions, "http://a.test", client._new_session)

    assert client.pooled(client._sessions, "http://a.test", client._new_session) is first
    assert client.pooled(client._sessions, "http://b.test", client._new_session) is not first


def test_a_version_with_no_published_contract_is_a_service_error(settings):
    settings.FAQ_API = "http://faq.test"

    with pytest.raises(NoContract, match="faq: No published contract for faq v9") as error:
        ServiceClient("faq", "v9")

    assert isinstance(error.value, ServiceError)
    assert error.value.status is None  # nothing was sent


def test_an_operation_the_contract_lacks_is_a_service_error(settings):
    settings.FAQ_API = "http://faq.test"

    with pytest.raises(NoContract, match="no_such_operation"):
        ServiceClient("faq", "v2").call("no_such_operation")


# -- A call on the wire (responses plays the FAQ) ------------------------------------------------

FAQS = "http://faq.test/v2/faqs"
ENTRY = {"question": "Q?", "source": {"kind": "ticket", "ref": "1"}}


@pytest.fixture
def faq(settings):
    settings.FAQ_API = "http://faq.test"
    settings.GATEWAY_API_KEY = "sy_key"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def test_a_call_carries_the_key_the_request_id_and_the_json_body(faq):
    faq.add(responses.POST, FAQS, status=201, json={"id": 7})
    token = request_id_var.set("req-1")
    try:
        response = ServiceClient("faq", "v2").call(
            "faq_create", json=ENTRY, idempotency_key="ticket-1-promotion"
        )
    finally:
        request_id_var.reset(token)

    assert response.json() == {"id": 7}
    headers = faq.calls[0].request.headers
    assert headers["Idempotency-Key"] == "ticket-1-promotion"
    assert headers["Authorization"] == "Bearer sy_key"
    assert headers["X-Request-ID"] == "req-1"
    assert (headers["Content-Type"], headers["Accept"]) == ("application/json", "application/json")
    assert json.loads(faq.calls[0].request.body) == ENTRY


def test_path_parameters_are_filled_in_and_escaped(faq):
    faq.add(responses.GET, "http://faq.test/v2/faqs/17", json={"id": 17})

    ServiceClient("faq", "v2").call("faq_retrieve", path={"entry_id": 17})

    assert (
        ServiceClient("faq", "v2")
        .url_for("faq_retrieve", {"entry_id": "a/b"})[1]
        .endswith("/a%2Fb")
    )
    with pytest.raises(ContractViolation, match="needs path parameters"):
        ServiceClient("faq", "v2").url_for("faq_retrieve")


def test_a_request_the_contract_refuses_is_never_sent(faq):
    with pytest.raises(ContractViolation, match="faq v2 faq_create"):
        ServiceClient("faq", "v2").call("faq_create", json={"question": ""})

    assert len(faq.calls) == 0


def test_a_failed_connection_is_retried_only_when_that_is_safe(faq):
    faq.add(responses.POST, FAQS, body=requests.ConnectionError("refused"))
    faq.add(responses.GET, FAQS, body=requests.ConnectionError("refused"))
    faq_v2 = ServiceClient("faq", "v2", retries=2)

    with pytest.raises(ServiceUnavailable):
        faq_v2.call("faq_create", json=ENTRY)  # no key: a blind retry could create two
    unkeyed = len(faq.calls)
    with pytest.raises(ServiceUnavailable):
        faq_v2.call("faq_create", json=ENTRY, idempotency_key="k")
    keyed = len(faq.calls) - unkeyed
    with pytest.raises(ServiceUnavailable):
        faq_v2.call("faq_list")

    assert (unkeyed, keyed, len(faq.calls) - unkeyed - keyed) == (1, 3, 3)


def test_a_read_timeout_is_not_retried_even_with_a_key(faq):
    faq.add(responses.POST, FAQS, body=requests.ReadTimeout("slow"))

    with pytest.raises(ServiceUnavailable, match="did not answer faq_create in time"):
        ServiceClient("faq", "v2").call("faq_create", json=ENTRY, idempotency_key="k")

    assert len(faq.calls) == 1  # the FAQ may have it: the caller decides when to resend


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, client.BadRequest),
        (401, client.Unauthorized),
        (403, client.Forbidden),
        (404, client.NotFound),
        (409, client.Conflict),
        (410, client.Gone),
        (422, client.Unprocessable),
        (429, client.RateLimited),
        (500, client.ServerError),
        (503, ServiceUnavailable),
    ],
)
def test_a_problem_answer_is_a_typed_error_with_the_problem(faq, status, kind):
    problem = {"type": "about:blank", "title": "T", "status": status, "detail": "Said why."}
    faq.add(
        responses.POST,
        FAQS,
        status=status,
        json=problem,
        content_type="application/problem+json",
    )

    with pytest.raises(kind) as error:
        ServiceClient("faq", "v2").call("faq_create", json=ENTRY, idempotency_key="k")

    assert (error.value.status, error.value.problem) == (status, problem)
    assert f"faq v2 faq_create -> {status}: Said why." == str(error.value)
