"""gateway/validation.py: for the versions named in GATEWAY_VALIDATE, requests that break the
contract are refused at the edge and never travel to the service."""

import json

import pytest

from tests.gateway.conftest import UPSTREAM
from tests.helpers import assert_problem

pytestmark = pytest.mark.django_db

VALID = {"question": "How do I reset my password?", "source": {"kind": "ticket", "ref": "4711"}}


@pytest.fixture
def upstream(upstream):
    upstream.post(f"{UPSTREAM}/v2/faqs", status=201, json={"id": 18})
    upstream.patch(f"{UPSTREAM}/v2/faqs/17", json={"id": 17})
    upstream.get(f"{UPSTREAM}/v2/faqs", json={"items": []})
    upstream.post(f"{UPSTREAM}/v1/faqs", status=201, json={"id": 18})
    return upstream


@pytest.fixture
def validating(settings):
    settings.GATEWAY_VALIDATE = ["faq:v2"]


@pytest.mark.usefixtures("validating")
class TestEnabled:
    def test_a_body_that_breaks_the_contract_is_a_400_naming_it(self, gateway, upstream):
        response = gateway.post("/faq/v2/faqs", {"question": 1})

        body = assert_problem(
            response, 400, type="https://switchyard.dev/problems/validation-error"
        )
        assert "faq v2 contract" in body["detail"]
        assert body["errors"]
        assert {error["code"] for error in body["errors"]} == {"contract"}
        assert any("question" in error["detail"] for error in body["errors"])
        assert len(upstream.calls) == 0

    def test_a_missing_required_field_is_a_400(self, gateway, upstream):
        response = gateway.post("/faq/v2/faqs", {"question": "Where is the source?"})

        body = assert_problem(response, 400)
        assert any("source" in error["detail"] for error in body["errors"])
        assert len(upstream.calls) == 0

    def test_a_body_of_a_type_the_contract_does_not_take_is_a_415(self, gateway, upstream):
        response = gateway.post(
            "/faq/v2/faqs", json.dumps(VALID).encode(), content_type="text/plain"
        )

        body = assert_problem(response, 415)
        assert "text/plain" in body["detail"]
        assert "application/json" in body["detail"]
        assert len(upstream.calls) == 0

    def test_malformed_json_is_a_400(self, gateway, upstream):
        response = gateway.post(
            "/faq/v2/faqs", b'{"question": "unterminated', content_type="application/json"
        )

        assert_problem(response, 400)
        assert len(upstream.calls) == 0

    def test_a_bad_query_parameter_is_a_400(self, gateway, upstream):
        response = gateway.get("/faq/v2/faqs?limit=many")

        body = assert_problem(response, 400)
        assert any("limit" in error["detail"] for error in body["errors"])
        assert len(upstream.calls) == 0

    def test_a_valid_body_reaches_the_upstream_untouched(self, gateway, upstream):
        payload = json.dumps(VALID).encode()

        response = gateway.post("/faq/v2/faqs", payload, content_type="application/json")

        assert response.status_code == 201
        [call] = upstream.calls
        assert call.request.body == payload

    def test_a_json_type_with_parameters_is_accepted(self, gateway, upstream):
        response = gateway.post(
            "/faq/v2/faqs",
            json.dumps(VALID).encode(),
            content_type="application/json; charset=utf-8",
        )

        assert response.status_code == 201
        assert len(upstream.calls) == 1

    def test_a_valid_partial_update_reaches_the_upstream(self, gateway, upstream):
        response = gateway.patch("/faq/v2/faqs/17", {"answer": "Click 'Forgot password'."})

        assert response.status_code == 200
        assert len(upstream.calls) == 1

    def test_versions_not_listed_are_not_validated(self, gateway, upstream):
        response = gateway.post("/faq/v1/faqs", {"question": 1})

        assert response.status_code == 201
        assert len(upstream.calls) == 1

    def test_the_refusal_counts_against_the_rate_limit(self, gateway, upstream, settings):
        # Checking a body costs the gateway as much as forwarding it does.
        settings.GATEWAY_RATE_LIMIT_PER_MINUTE = 1
        assert_problem(gateway.post("/faq/v2/faqs", {"question": 1}), 400)

        assert_problem(gateway.post("/faq/v2/faqs", VALID), 429)


def test_without_the_setting_an_invalid_body_is_forwarded(gateway, upstream):
    response = gateway.post("/faq/v2/faqs", {"question": 1})

    assert response.status_code == 201
    [call] = upstream.calls
    assert json.loads(call.request.body) == {"question": 1}


def test_a_star_validates_every_version(gateway, upstream, settings):
    settings.GATEWAY_VALIDATE = ["*"]

    response = gateway.post("/faq/v1/faqs", {"question": 1})

    assert_problem(response, 400)
    assert len(upstream.calls) == 0
