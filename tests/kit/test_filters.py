"""Query filters: an empty value is a 400 problem, and the contract states every bound."""

import pytest
from rest_framework.test import APIClient

from contracts import load as load_contract
from services.kit.filters import NO_NUL
from tests.helpers import assert_problem, conformance, published_contracts

V2_FILTERS = [
    "answered",
    "created_after",
    "created_before",
    "updated_after",
    "q",
    "related_to",
    "source_kind",
    "source_ref",
]


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture(scope="module")
def conforms():
    return conformance(published_contracts("faq"))


def parameters(version: str) -> dict:
    """Each list parameter's schema, without its ``format`` (a lint rule's business)."""
    operation = load_contract("faq", version)["paths"][f"/{version}/faqs"]["get"]
    return {
        parameter["name"]: {k: v for k, v in parameter["schema"].items() if k != "format"}
        for parameter in operation["parameters"]
    }


@pytest.mark.django_db
@pytest.mark.parametrize("name", V2_FILTERS)
def test_a_filter_sent_empty_is_a_400_naming_it(api, conforms, name):
    response = conforms("v2", api.get(f"/v2/faqs?{name}="))

    problem = assert_problem(response, 400)
    assert problem["errors"] == [
        {
            "parameter": name,
            "code": "invalid",
            "detail": "Must not be empty: leave the parameter out not to filter by it.",
        }
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["cursor=", "limit="])
def test_a_pagination_parameter_sent_empty_is_a_400(api, conforms, query):
    response = conforms("v2", api.get(f"/v2/faqs?{query}"))

    problem = assert_problem(response, 400)
    assert [error["parameter"] for error in problem["errors"]] == [query.rstrip("=")]


@pytest.mark.django_db
def test_a_nul_character_in_a_text_filter_is_a_400_the_contract_announces(api, conforms):
    problem = assert_problem(conforms("v2", api.get("/v2/faqs?q=a%00b")), 400)

    assert [(e["parameter"], e["code"]) for e in problem["errors"]] == [
        ("q", "null_characters_not_allowed")
    ]
    assert parameters("v2")["q"]["pattern"] == NO_NUL


@pytest.mark.django_db
def test_a_filter_left_out_does_not_filter(api, conforms):
    response = conforms("v2", api.get("/v2/faqs?q=password"))

    assert response.status_code == 200
    assert response.json()["items"] == []


@pytest.mark.django_db
def test_related_to_zero_is_refused_and_the_contract_says_ids_start_at_one(api, conforms):
    problem = assert_problem(conforms("v2", api.get("/v2/faqs?related_to=0")), 400)

    assert problem["errors"][0]["parameter"] == "related_to"
    assert parameters("v2")["related_to"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 2**63 - 1,
    }


def test_the_contract_states_each_filters_bounds():
    v2 = parameters("v2")
    assert v2["created_after"] == {"type": "string", "minLength": 1}
    text = {"type": "string", "minLength": 1, "pattern": NO_NUL}
    assert v2["q"] == {**text, "maxLength": 200}
    assert v2["source_ref"] == {**text, "maxLength": 200}
    assert v2["cursor"] == {"type": "string", "minLength": 1}
    assert v2["limit"] == {"type": "integer", "minimum": 1, "maximum": 100}
    v1 = parameters("v1")
    assert v1["source"] == {**text, "maxLength": 500}
    assert v1["page"] == {"type": "integer", "minimum": 1, "maximum": 10**18 - 1}
    assert v1["page_size"] == {"type": "integer", "minimum": 1, "maximum": 100}
